"""A send step's button links are tracked as its text links are: the button goes out as
`/l/<token>`, and a click on it counts for the run and the enrolment (QA pass 11, m1: a
button's URL went out raw, so its clicks never counted)."""

from __future__ import annotations

import copy

import httpx

from kith.consent.links import public_base
from kith.core.context import Core
from kith.sequences.enrol import enrol
from kith.sequences.models import Enrolment, StepRun
from kith.sequences.runner import SequenceWorker
from kith.sequences.store import enrolments, runs
from tests.sequences.conftest import WELCOME, MakeSequence, People
from tests.sequences.test_links import path_of, web  # noqa: F401 (a fixture, found by name)

BUTTONS = [
    {"label": "Shop", "url": "https://shop.test/sale?a=1"},
    {"label": "Yes", "payload": "yes"},
    {"label": "Tall", "url": "https://shop.test/" + "x" * 1990},  # too long to track
]


async def test_a_button_link_goes_out_tracked_and_its_click_counts(
    score: Core,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
    web: httpx.AsyncClient,  # noqa: F811
) -> None:
    steps = copy.deepcopy(WELCOME["steps"])
    steps[0]["message"] |= {"text": {"en": "See https://shop.test/sale?a=1"}, "buttons": BUTTONS}
    (ada,) = await people(1)
    sequence = await make_sequence(steps=steps)
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1

    sent = await score.store.messages.find_one({"customer_id": ada.id, "purpose": "marketing"})
    assert sent is not None
    shop, yes, tall = sent["buttons"]
    assert shop["url"].startswith(public_base(score) + "/l/")
    assert "shop.test" not in shop["url"]
    assert (yes["payload"], yes.get("url")) == ("yes", None)
    assert tall["url"] == BUTTONS[2]["url"]

    answer = await web.get(path_of(shop["url"]))
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://shop.test/sale?a=1"
    run = StepRun.from_doc(await runs(score).find_one({"customer_id": ada.id, "type": "send"}))
    assert run.clicked_at == score.clock.now()
    doc = await enrolments(score).find_one({"customer_id": ada.id})
    assert doc is not None and Enrolment.from_doc(doc).clicked_at == score.clock.now()
