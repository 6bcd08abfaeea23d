"""The builder page's lane, `/app/api/sequences`: the same routes with the signed-in session
(a marketer builds, activates, enrols, reads the figures and plans a dry run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.pipeline import ingest
from kith.sequences.feature import feature
from kith.sequences.runner import SequenceWorker
from tests.sequences.conftest import WELCOME
from tests.sequences.test_validate_every_field import (
    MODEL_AND_TEMPLATE_FAULTS,
    MODEL_AND_TEMPLATE_NAMED,
)
from tests.support.cast import inbound
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


@pytest.fixture(autouse=True)
def with_sequences(core: Core) -> None:
    """Installed before the app is built (autouse fixtures come first)."""
    install(core, [feature(core)])


async def test_a_marketer_builds_enrols_and_reads_through_the_page_lane(
    core: Core,
    cast: Cast,  # noqa: F811 (the fixture imported above)
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    conversation = await core.store.conversations.find_one({"_id": cast.conversations["shop"]})
    assert conversation is not None
    ada = conversation["customer_id"]
    mary = await browser("mary")
    made = await mary.api("POST", "/sequences", json=WELCOME)
    assert made.status_code == 201, made.text
    base = f"/sequences/{made.json()['id']}"
    assert (await mary.api("POST", f"{base}/activate")).json()["status"] == "active"
    enrolled = await mary.api("POST", f"{base}/enrolments", json={"customer_ids": [ada]})
    assert enrolled.json()["results"][0]["outcome"] == "enrolled", enrolled.text
    listed = (await mary.api("GET", f"{base}/enrolments")).json()
    assert [(e["customer_id"], e["state"]) for e in listed["items"]] == [(ada, "active")]
    stats = (await mary.api("GET", f"{base}/stats")).json()
    assert (stats["enrolled"], stats["active"], len(stats["daily"])) == (1, 1, 30)
    plan = await mary.api("POST", f"{base}/dry-run", json={"customer_id": ada})
    assert [s["step_id"] for s in plan.json()["steps"]] == ["welcome", "pause", "tip"]
    rendered = await mary.api("POST", f"{base}/steps/welcome/render", json={"customer_id": ada})
    assert rendered.json()["text"] == "Hi Ada Lovelace"
    alice = await browser("alice")
    refused = await alice.api("DELETE", f"{base}/enrolments/{listed['items'][0]['id']}")
    assert refused.status_code == 403


async def test_the_api_refuses_whom_the_pages_refuse_reads_included(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """A team's agent (the demo's support@demo.kith) gets 403 on `/app/sequences`: the
    page's API does not list them the sequences either."""
    mary = await browser("mary")
    made = await mary.api("POST", "/sequences", json=WELCOME)
    base = f"/sequences/{made.json()['id']}"
    for name, page, answer in (("alice", 403, 403), ("mary", 200, 200), ("admin", 200, 200)):
        who = await browser(name)
        assert (await who.http.get("/app/sequences")).status_code == page, name
        assert (await who.http.get(f"/app{base}")).status_code == page, name
        for path in ("/sequences", base, f"{base}/stats", f"{base}/enrolments"):
            assert (await who.api("GET", path)).status_code == answer, (name, path)


async def test_a_renamed_step_keeps_its_figures_apart_on_the_page_and_in_the_stats(
    core: Core,
    clock: ManualClock,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """Regression (QA sequences #3): after `a` was renamed `intro` in version 2, the page lost
    `a`'s sends, and a new step reusing the id `a` added its sends to the old one's."""
    clock.advance(12 * 3600)  # noon: outside quiet hours
    ada, grace, li = [await _customer(core, cast, who) for who in ("ada", "grace", "li")]
    mary = await browser("mary")
    hello = {"type": "send", "message": {"text": {"en": "Hello"}}}
    made = await mary.api("POST", "/sequences", json={**WELCOME, "steps": [{"id": "a", **hello}]})
    base = f"/sequences/{made.json()['id']}"
    await mary.api("POST", f"{base}/activate")
    await mary.api("POST", f"{base}/enrolments", json={"customer_ids": [ada, grace]})
    assert await SequenceWorker(core).run_once() == 2
    coupon = {"id": "a", "type": "send", "message": {"text": {"en": "A coupon"}}}
    steps = [{"id": "intro", **hello}, coupon]
    edited = await mary.api("PUT", base, json={**WELCOME, "steps": steps})
    assert edited.json()["version"] == 2, edited.text
    await mary.api("POST", f"{base}/enrolments", json={"customer_ids": [li]})
    assert await SequenceWorker(core).run_once() == 1
    stats = (await mary.api("GET", f"{base}/stats")).json()
    assert {k: v["sent"] for k, v in stats["steps"].items()} == {"intro": 1, "a": 1}
    assert [(e["step_id"], e["versions"], e["sent"]) for e in stats["earlier"]] == [("a", [1], 2)]
    page = (await mary.http.get(f"/app{base}")).text
    assert 'data-step="a" data-versions="1"><th scope="row">a (version 1, since' in page
    assert "a (version 1, since changed or removed) · Sent</text>" in page  # the chart's bar
    zh = (await mary.http.get(f"/app{base}?lang=zh")).text
    assert "a（第 1 版，之后已修改或删除）" in zh  # full-width, as Chinese writes them


async def _customer(core: Core, people: Cast, who: str) -> str:
    channel = people.help if who == "grace" else people.shop
    result = await ingest(core, channel, inbound(channel, who, "hi"))
    return result.conversation.customer_id


async def test_the_page_lane_names_model_and_template_faults_at_once(
    cast: Cast,  # noqa: F811 (the fixture imported above)
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """Regression (QA demo probe, sequences #1): the builder saves through this lane."""
    mary = await browser("mary")
    answer = await mary.api(
        "POST", "/sequences", json={**WELCOME, "steps": MODEL_AND_TEMPLATE_FAULTS}
    )
    assert answer.status_code == 422, answer.text
    fields = answer.json()["error"]["fields"]
    assert [(f["field"], f["reason"]) for f in fields] == MODEL_AND_TEMPLATE_NAMED
