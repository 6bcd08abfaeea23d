"""Tracked links (both lanes): `track` rewrites a message's web URLs and nothing else, and
`GET /l/{token}` counts the first click of a run and of its enrolment, then redirects to
where the message pointed. Runs are written as the runner writes them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from kith.consent.links import LinkTarget, public_base, unsubscribe_url
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.sequences.enrol import enrol
from kith.sequences.links import track
from kith.sequences.models import Enrolment, RunOutcome, StepRun
from kith.sequences.store import enrolments, message_id, run_id, runs
from kith.web.app import create_app
from tests.sequences.conftest import MakeSequence, People

LINK = re.compile(r"https?://\S+?/l/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


@pytest.fixture
async def web(score: Core) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on the suite's Core with sequences installed (workers off)."""
    app = create_app(core=score, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            yield http


async def sent_run(core: Core, enrolment: Enrolment, step_id: str) -> StepRun:
    run = StepRun(
        id=run_id(enrolment.id, step_id, 1),
        workspace_id=enrolment.workspace_id,
        sequence_id=enrolment.sequence_id,
        version=enrolment.version,
        enrolment_id=enrolment.id,
        customer_id=enrolment.customer_id,
        step_id=step_id,
        visit=1,
        type="send",
        outcome=RunOutcome.sent,
        message_id=message_id(enrolment.id, step_id, 1),
        at=core.clock.now(),
    )
    await runs(core).insert_one(run.to_doc())
    return run


async def enrolled(
    core: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> Enrolment:
    (ada,) = await people(1)
    sequence = await make_sequence()
    return (await enrol(core, workspace_id, sequence.id, ada.id, "api")).enrolment


@dataclass(frozen=True)
class Tracked:
    """A customer enrolled, and the app to click their links in."""

    core: Core
    workspace_id: str
    web: httpx.AsyncClient
    enrolment: Enrolment


@pytest.fixture
async def tracked(
    score: Core,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
    web: httpx.AsyncClient,
) -> Tracked:
    return Tracked(
        score, workspace_id, web, await enrolled(score, workspace_id, people, make_sequence)
    )


def path_of(link: str) -> str:
    return urlsplit(link).path


async def test_track_rewrites_web_urls_and_keeps_the_sentence(
    score: Core, workspace_id: str
) -> None:
    unsubscribe = await unsubscribe_url(score, LinkTarget(workspace_id, "c-1", "email"))
    text = (
        "Shop https://shop.test/sale?x=1&y=2, read (http://blog.test/tips). "
        "新品：https://shop.test/新品。 Mail mailto:help@shop.test, ftp://old.test/f, "
        f"or leave: {unsubscribe}"
    )
    tracked = await track(score, text, "run-1", workspace_id)
    links = LINK.findall(tracked)
    assert len(links) == 3
    base = public_base(score)
    assert tracked.startswith(f"Shop {base}/l/")
    assert ", read (" + base in tracked and "). 新品：" + base in tracked
    assert "。 Mail mailto:help@shop.test, ftp://old.test/f, or leave: " in tracked
    assert tracked.endswith(unsubscribe)  # Kith's own links stay as they are
    assert "shop.test/sale" not in tracked  # the URL travels inside the signed token only
    assert await track(score, "no links here", "run-1", workspace_id) == "no links here"


async def test_a_click_redirects_and_counts_once_per_customer(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
    web: httpx.AsyncClient,
) -> None:
    enrolment = await enrolled(score, workspace_id, people, make_sequence)
    welcome = await sent_run(score, enrolment, "welcome")
    tip = await sent_run(score, enrolment, "tip")
    [to_sale] = LINK.findall(
        await track(score, "https://shop.test/sale?a=1", welcome.id, workspace_id)
    )
    [to_tip] = LINK.findall(await track(score, "https://shop.test/tip", tip.id, workspace_id))
    clock.advance(60)
    first = score.clock.now()
    answer = await web.get(path_of(to_sale))
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://shop.test/sale?a=1"
    clock.advance(60)
    again = await web.get(path_of(to_sale))
    assert again.status_code == 302 and again.headers["location"] == "https://shop.test/sale?a=1"
    await web.get(path_of(to_tip))
    runs_now = {d["_id"]: d async for d in runs(score).find({"enrolment_id": enrolment.id})}
    assert StepRun.from_doc(runs_now[welcome.id]).clicked_at == first  # the first click only
    assert StepRun.from_doc(runs_now[tip.id]).clicked_at == score.clock.now()
    doc = await enrolments(score).find_one({"_id": enrolment.id})
    assert doc is not None and Enrolment.from_doc(doc).clicked_at == first


async def test_a_bad_link_gets_a_page_in_the_readers_language(
    score: Core, web: httpx.AsyncClient
) -> None:
    answer = await web.get("/l/nope.nope", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert answer.status_code == 404 and "location" not in answer.headers
    assert "链接无效" in answer.text
    english = await web.get("/l/nope.nope?lang=en")
    assert english.status_code == 404 and "This link is not valid" in english.text
