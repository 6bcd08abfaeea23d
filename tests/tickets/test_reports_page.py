"""The ticket reports page over HTTP: satisfaction and "% SLA met" for a seeded desk (two
tickets solved and rated, one reply in time and one breach), the period choice, an agent of
another team seeing none of it, a marketer refused, and hostile names kept as text."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from kith.core.auth import create_user
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.features import install
from kith.core.models import Author, AuthorKind, OutboundContent
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.core.teams import add_member, create_team
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.csat_feature import feature as csat_feature
from kith.tickets.feature import feature
from kith.tickets.models import Status, TicketIn
from kith.tickets.sla_models import PolicyIn, Targets
from kith.tickets.sla_store import save_policy
from kith.tickets.sla_worker import SlaWorker
from tests.support.cast import inbound
from tests.support.consumers import drain
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    PASSWORD,
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)

MIN = 60.0


@pytest.fixture(autouse=True)
async def with_tickets(core: Core) -> None:
    install(core, [feature(core), csat_feature(core)])
    await core.start()


class Tables(HTMLParser):
    """Each table's rows (by the table's id) as the texts of their cells, and each
    `data-figure` as its text: what a reader of the page reads."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: dict[str, str] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._figure: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "dd" and found.get("data-figure"):
            self._figure = found["data-figure"]
            self.figures[self._figure] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "dd" and self._figure is not None:
            self.figures[self._figure] = " ".join(self.figures[self._figure].split())
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._figure is not None:
            self.figures[self._figure] += data

    def rows(self, table: str) -> list[list[str]]:
        return self.tables[table][1:]  # the header row left out


async def _policy(core: Core, cast: Cast, name: str = "Standard") -> str:  # noqa: F811
    body = PolicyIn.model_validate(
        {"name": name, "default": True, "targets": {"normal": Targets(first_reply=60)}}
    )
    return (await save_policy(core, cast.workspace_id, body)).id


async def _desk(core: Core, cast: Cast, clock: ManualClock) -> None:  # noqa: F811
    """Ada's ticket (Sales, Alice) answered in 10 minutes and rated 5; Grace's (Support, Bob)
    unanswered past its hour and rated 2."""
    sales, support = cast.users["sales"], cast.users["support"]
    made = {}
    for where, team, who in (("shop", sales, "alice"), ("help", support, "bob")):
        body = TicketIn(
            subject="Late",
            conversation_id=cast.conversations[where],
            team_id=team.id,
            assignee_id=cast.users[who].id,
        )
        made[where] = await do_create_ticket(core, cast.workspace_id, body)
    clock.advance(10 * MIN)
    shop = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    alice = Author(kind=AuthorKind.agent, id=cast.users["alice"].id, name="Alice")
    await send(core, shop, OutboundContent(text="On it"), alice)
    await drain(core)
    clock.advance(60 * MIN)
    await SlaWorker(core, "w").run_once()
    for where, customer, score in (("shop", "ada", "5"), ("help", "grace", "2")):
        await do_move_ticket(core, cast.workspace_id, made[where].id, Status.solved)
        await drain(core)  # the survey is asked
        clock.advance(MIN)
        channel = cast.shop if where == "shop" else cast.help
        await ingest(core, channel, inbound(channel, customer, score, message_id=f"score-{where}"))
        await drain(core)  # and answered
    clock.advance(MIN)


@pytest.fixture
async def desk(core: Core, cast: Cast, clock: ManualClock) -> None:  # noqa: F811
    """The Standard policy and the seeded desk (`_desk`)."""
    await _policy(core, cast)
    await _desk(core, cast, clock)


async def _page(browser: Callable[..., Any], who: str, query: str = "") -> Any:  # noqa: F811
    reader = await browser(who)
    return await reader.http.get("/app/tickets/reports" + query)


async def test_an_admin_reads_satisfaction_and_sla_met_with_names(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    browser: Callable[..., Any],  # noqa: F811
    desk: None,
) -> None:
    answer = await _page(browser, "admin")
    assert answer.status_code == 200, answer.text
    page = Tables(answer.text)
    assert page.figures["asked"] == "2"
    assert page.figures["answered"] == "2"
    assert page.figures["response_rate"] == "100%"
    assert page.figures["average"] == "3.5 out of 5"
    assert page.rows("scores")[0] == ["5 out of 5", "1", "50%"]
    assert page.rows("scores")[3] == ["2 out of 5", "1", "50%"]
    assert [r[0] for r in page.rows("csat-teams")] == ["Sales", "Support"]
    assert [r[4] for r in page.rows("csat-teams")] == ["5 out of 5", "2 out of 5"]
    assert [r[0] for r in page.rows("csat-agents")] == ["Alice", "Bob"]
    assert 'role="img"' in answer.text and '<title id="chart-scores-title">' in answer.text
    assert "5 out of 5: 1" in answer.text  # the chart's description
    # First reply: Alice's in time, Bob's missed; both solved within their resolution target.
    assert page.figures["first_reply"] == "50% (1 of 2)"
    assert page.figures["resolution"] == "100% (2 of 2)"
    assert page.figures["next_reply"] == "none yet"
    assert page.figures["overall"] == "75% (3 of 4)"
    assert page.rows("sla-policies") == [
        ["Standard", "2", "75% (3 of 4)", "50% (1 of 2)", "none yet", "100% (2 of 2)"]
    ]
    agents = {r[0]: r[3] for r in page.rows("sla-agents")}
    assert agents == {"Alice": "100% (1 of 1)", "Bob": "0% (0 of 1)"}
    teams = {r[0]: r[3] for r in page.rows("sla-teams")}
    assert teams == {"Sales": "100% (1 of 1)", "Support": "0% (0 of 1)"}
    assert re.search(r'<option value="30" selected>Last 30 days</option>', answer.text)
    assert "From 2 Dec 2025 to 1 Jan 2026" in answer.text


async def test_the_period_and_the_empty_states_in_chinese(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    browser: Callable[..., Any],  # noqa: F811
    desk: None,
) -> None:
    clock.advance(10 * 24 * 3600)  # the desk's day is out of the last 7 days
    reader = await browser("admin")
    answer = await reader.http.get("/app/tickets/reports?days=7&lang=zh")
    page = Tables(answer.text)
    assert page.figures["asked"] == "0"
    assert page.figures["average"] == "暂无"
    assert "这段时间内没有已回答的调查。" in answer.text
    assert "这段时间内没有带 SLA 目标的工单。" in answer.text
    assert '<option value="7" selected>最近 7 天</option>' in answer.text
    assert "2026年1月4日至2026年1月11日" in answer.text
    wider = Tables((await reader.http.get("/app/tickets/reports?days=90&lang=zh")).text)
    assert (wider.figures["average"], wider.figures["first_reply"]) == (
        "3.5 / 5 分",
        "50%（2 个中达成 1 个）",
    )
    made_up = await reader.http.get("/app/tickets/reports?days=12")
    assert '<option value="30" selected>' in made_up.text  # not a period offered: the default


async def test_an_agent_sees_their_teams_satisfaction_and_sla_only(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    browser: Callable[..., Any],  # noqa: F811
    desk: None,
) -> None:
    alice = Tables((await _page(browser, "alice")).text)
    assert (alice.figures["answered"], alice.figures["average"]) == ("1", "5 out of 5")
    assert [r[0] for r in alice.rows("csat-teams")] == ["Sales"]
    assert [r[0] for r in alice.rows("sla-teams")] == ["Sales"]
    other = await create_team(core, cast.workspace_id, "Billing", [])
    carol = await create_user(core, cast.workspace_id, "carol@kith.test", PASSWORD, name="Carol")
    await add_member(core, cast.workspace_id, other.id, carol.id)
    answer = await _page(browser, "carol")
    carols = Tables(answer.text)
    assert (carols.figures["asked"], carols.figures["answered"]) == ("0", "0")
    assert "csat-teams" not in carols.tables and "Sales" not in answer.text
    assert "sla-policies" not in carols.tables and 'id="no-sla"' in answer.text


async def test_a_marketer_is_refused_and_sees_no_link(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    refused = await _page(browser, "mary")
    assert refused.status_code == 403
    assert "Ticket reports are for agents and admins." in refused.text
    mary = await browser("mary")
    assert 'href="/app/tickets/reports"' not in (await mary.http.get("/app/tickets")).text
    alice = await browser("alice")
    assert 'href="/app/tickets/reports"' in (await alice.http.get("/app/tickets")).text
    signed_out = await browser()
    assert (await signed_out.http.get("/app/tickets/reports")).status_code == 303


async def test_hostile_team_agent_and_policy_names_are_text(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    await core.store.teams.update_one({"_id": cast.users["sales"].id}, {"$set": {"name": hostile}})
    await core.store.users.update_one(
        {"_id": cast.users["alice"].id}, {"$set": {"name": "<script>alert(2)</script>"}}
    )
    await _policy(core, cast, name="<b>Gold</b>")
    await _desk(core, cast, clock)
    answer = await _page(browser, "admin")
    assert "<img" not in answer.text and "<script>alert" not in answer.text
    assert "<b>Gold" not in answer.text
    page = Tables(answer.text)
    assert page.rows("csat-teams")[0][0] == hostile  # shown as the text it is
    assert page.rows("sla-policies")[0][0] == "<b>Gold</b>"
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in answer.text


async def test_a_report_with_nothing_yet_says_so(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    answer = await _page(browser, "admin")
    assert answer.status_code == 200
    assert "No surveys answered in this period." in answer.text
    assert "No tickets with SLA targets in this period." in answer.text
    assert "No survey went unasked in this period." in answer.text
