"""The ticket reports page over HTTP: satisfaction and "% SLA met" for a seeded desk (two
tickets solved and rated, one reply in time and one breach), the period choice, an agent of
another team seeing none of it, a marketer refused, and hostile names kept as text; chosen
days (whole UTC days, and every wrong range a 400 beside its field), the CSV of the same
figures (scoped, guarded and defused as the page is), and the SLA chart."""

from __future__ import annotations

import csv
import io
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
from kith.tickets.sla_models import Metric, PolicyIn, Targets
from kith.tickets.sla_store import save_policy
from kith.tickets.sla_worker import SlaWorker
from kith.tickets.store import tickets
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


# Chosen days (`?from=&to=`), the CSV and the SLA chart.


def _csv_rows(answer: Any) -> list[dict[str, str]]:
    """The file as a spreadsheet reads it: UTF-8 after its byte-order mark."""
    assert answer.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def _figure(rows: list[dict[str, str]], section: str, name: str, metric: str) -> str:
    found = [
        r["value"]
        for r in rows
        if (r["section"], r["name"], r["metric"]) == (section, name, metric)
    ]
    assert len(found) == 1, (section, name, metric, rows)
    return found[0]


async def test_chosen_days_count_from_the_start_of_the_first_to_the_end_of_the_last(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
    desk: None,
) -> None:
    """The desk's tickets open at 2026-01-01 00:00:00 UTC exactly: a range starting that day
    counts them, one ending the day before does not (its end is 1 Jan 00:00, excluded)."""
    reader = await browser("admin")
    answer = await reader.http.get("/app/tickets/reports?from=2026-01-01&to=2026-01-01")
    assert answer.status_code == 200, answer.text
    page = Tables(answer.text)
    assert (page.figures["answered"], page.figures["first_reply"]) == ("2", "50% (1 of 2)")
    assert "<title>Ticket reports · 1 Jan 2026 – 1 Jan 2026 · Kith</title>" in answer.text
    assert '<h2 class="report-range" id="report-range">1 Jan 2026 – 1 Jan 2026</h2>' in answer.text
    assert '<option value="custom" selected>Custom range</option>' in answer.text
    for field, label in (("from", "From"), ("to", "To")):
        field_html = rf'<label for="{field}">{label}</label>\s*<input type="date" id="{field}"'
        assert re.search(rf'{field_html} name="{field}" value="2026-01-01"', answer.text)
    assert "whole days in UTC" in answer.text
    most_days = await reader.http.get("/app/tickets/reports?from=2025-01-02&to=2026-01-02")
    # 366 days, the most there may be; a last day after today (1 Jan) is no error
    assert most_days.status_code == 200
    assert "2 Jan 2025 – 2 Jan 2026" in most_days.text
    before = Tables(
        (await reader.http.get("/app/tickets/reports?from=2025-12-01&to=2025-12-31")).text
    )
    assert (before.figures["asked"], before.figures.get("first_reply")) == ("0", None)
    zh = await reader.http.get("/app/tickets/reports?from=2025-12-31&to=2026-01-01&lang=zh")
    assert zh.status_code == 200
    assert "2025年12月31日 – 2026年1月1日" in zh.text and ">开始日期</label>" in zh.text
    assert Tables(zh.text).figures["answered"] == "2"


BAD_RANGES = [
    # (query, the field in the wrong, its message)
    ("from=2026-13-01&to=2026-01-01", "from", "Write the day as year-month-day, like 2026-11-01."),
    ("from=yesterday&to=2026-01-01", "from", "Write the day as year-month-day, like 2026-11-01."),
    ("from=20251101&to=2025-11-30", "from", "Write the day as year-month-day, like 2026-11-01."),
    ("from=2025-12-10&to=2025-12-01", "to", "The last day comes before the first day."),
    ("from=2024-12-01&to=2025-12-02", "to", "At most 366 days: these are 367."),
    ("from=2025-01-01&to=9999-12-31", "to", "At most 366 days: these are 2,912,808."),
    (
        "from=2026-01-02&to=2026-01-05",
        "from",
        "The first day is in the future: choose today or earlier.",
    ),
    ("from=2025-12-01", "to", "Choose the last day."),
    ("days=custom&from=&to=2025-12-01", "from", "Choose the first day."),
]


@pytest.mark.parametrize(("query", "field", "message"), BAD_RANGES)
async def test_wrong_days_are_a_400_naming_the_field_never_a_500(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
    query: str,
    field: str,
    message: str,
) -> None:
    reader = await browser("admin")
    answer = await reader.http.get("/app/tickets/reports?" + query)
    assert answer.status_code == 400, answer.text
    found = re.search(rf'<input type="date" id="{field}" [^>]*>', answer.text)
    assert found, answer.text
    assert 'aria-invalid="true"' in found.group(0)
    assert f'aria-describedby="range-hint {field}-error"' in found.group(0)
    assert "autofocus" in found.group(0)  # the keyboard is where the fix is
    assert f'<p class="form-error" id="{field}-error">{message}</p>' in answer.text
    assert "Correct the days above to see the figures." in answer.text
    assert 'id="csat"' not in answer.text and 'id="reports-csv"' not in answer.text
    assert '<option value="custom" selected>' in answer.text
    assert (await reader.http.get("/app/tickets/reports.csv?" + query)).status_code == 400


async def test_wrong_days_are_said_in_chinese_and_sent_back_as_typed(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    reader = await browser("admin")
    answer = await reader.http.get("/app/tickets/reports?from=2025-12-10&to=<b>x</b>&lang=zh")
    assert answer.status_code == 400
    assert (
        '<p class="form-error" id="to-error">请按“年-月-日”填写日期，例如 2026-11-01。</p>'
        in answer.text
    )
    assert 'value="&lt;b&gt;x&lt;/b&gt;"' in answer.text and "<b>x" not in answer.text
    reversed_ = await reader.http.get("/app/tickets/reports?from=2025-12-10&to=2025-12-01&lang=zh")
    assert "结束日期早于开始日期。" in reversed_.text
    csv_answer = await reader.http.get(
        "/app/tickets/reports.csv?from=2026-02-01&to=2026-02-02&lang=zh"
    )
    assert csv_answer.status_code == 400
    assert csv_answer.text == "开始日期在未来：请选择今天或更早的日期。"


async def test_a_period_sent_with_the_forms_date_fields_is_tidied_into_its_address(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """The form sends its date fields whatever the period, and the days it showed: a period
    chosen in the list wins over days left as shown, days typed over the shown ones win over
    the list, and the address is tidied to name what the page shows alone."""
    reader = await browser("admin")
    answer = await reader.http.get("/app/tickets/reports?days=90&from=2025-12-01&to=2025-12-31")
    assert (answer.status_code, answer.headers["location"]) == (303, "/app/tickets/reports?days=90")
    answer = await reader.http.get("/app/tickets/reports?days=7&from=&to=&lang=zh")
    assert answer.headers["location"] == "/app/tickets/reports?days=7&lang=zh"
    page = await reader.http.get("/app/tickets/reports?days=7")
    assert page.status_code == 200
    assert 'value="2025-12-25"' in page.text and 'value="2026-01-01"' in page.text  # prefilled
    assert 'name="shown_from" value="2025-12-25"' in page.text

    shown = "shown_from=2025-12-25&shown_to=2026-01-01"
    kept = f"/app/tickets/reports?days=90&from=2025-12-25&to=2026-01-01&{shown}"
    assert (await reader.http.get(kept)).headers["location"] == "/app/tickets/reports?days=90"
    typed = f"/app/tickets/reports?days=7&from=2025-12-01&to=2025-12-31&{shown}&lang=zh"
    answer = await reader.http.get(typed)  # the list left at 7 days, other days typed
    assert (
        answer.headers["location"] == "/app/tickets/reports?from=2025-12-01&to=2025-12-31&lang=zh"
    )
    custom = f"/app/tickets/reports?days=custom&from=2025-12-01&to=2025-12-31&{shown}"
    answer = await reader.http.get(custom)
    assert answer.headers["location"] == "/app/tickets/reports?from=2025-12-01&to=2025-12-31"


async def test_the_csv_holds_the_pages_figures_for_the_same_days(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
    desk: None,
) -> None:
    reader = await browser("admin")
    page = await reader.http.get("/app/tickets/reports?from=2025-12-31&to=2026-01-01")
    link = re.search(
        r'<a class="button-link" id="reports-csv" href="([^"]+)" download>Download CSV</a>',
        page.text,
    )
    assert link, page.text
    assert link.group(1) == "/app/tickets/reports.csv?from=2025-12-31&amp;to=2026-01-01"
    answer = await reader.http.get(link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="kith-reports-2025-12-31-2026-01-01.csv"'
    )
    assert answer.headers["cache-control"] == "no-store"
    rows = _csv_rows(answer)
    assert list(rows[0]) == ["section", "name", "metric", "value"]
    assert _figure(rows, "period", "", "from") == "2025-12-31"
    assert _figure(rows, "period", "", "to") == "2026-01-01"
    assert _figure(rows, "satisfaction_overall", "", "answered") == "2"
    assert _figure(rows, "satisfaction_overall", "", "response_rate_percent") == "100.0"
    assert _figure(rows, "satisfaction_overall", "", "average_score") == "3.5"
    assert _figure(rows, "satisfaction_overall", "", "score_5") == "1"
    assert _figure(rows, "satisfaction_by_team", "Sales", "average_score") == "5.0"
    assert _figure(rows, "satisfaction_by_agent", "Bob", "average_score") == "2.0"
    assert _figure(rows, "sla_overall", "", "overall_percent") == "75.0"
    assert _figure(rows, "sla_overall", "", "first_reply_met") == "1"
    assert _figure(rows, "sla_overall", "", "first_reply_missed") == "1"
    assert _figure(rows, "sla_overall", "", "next_reply_percent") == ""  # none measured
    assert _figure(rows, "sla_overall", "", "resolution_percent") == "100.0"
    assert _figure(rows, "sla_by_policy", "Standard", "tickets") == "2"
    assert _figure(rows, "sla_by_team", "Support", "first_reply_percent") == "0.0"
    assert _figure(rows, "sla_by_agent", "Alice", "first_reply_percent") == "100.0"
    last_30 = await reader.http.get("/app/tickets/reports.csv?days=30")
    assert (
        'filename="kith-reports-2025-12-02-2026-01-01.csv"'
        in last_30.headers["content-disposition"]
    )
    assert _figure(_csv_rows(last_30), "satisfaction_overall", "", "answered") == "2"


async def test_the_csv_is_scoped_and_guarded_as_the_page_is(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
    desk: None,
) -> None:
    alice = _csv_rows(await (await browser("alice")).http.get("/app/tickets/reports.csv"))
    assert {r["name"] for r in alice if r["section"] == "satisfaction_by_team"} == {"Sales"}
    assert {r["name"] for r in alice if r["section"] == "sla_by_agent"} == {"Alice"}
    assert "Support" not in {r["name"] for r in alice}
    other = await create_team(core, cast.workspace_id, "Billing", [])
    carol = await create_user(core, cast.workspace_id, "carol@kith.test", PASSWORD, name="Carol")
    await add_member(core, cast.workspace_id, other.id, carol.id)
    carols = _csv_rows(await (await browser("carol")).http.get("/app/tickets/reports.csv"))
    assert _figure(carols, "satisfaction_overall", "", "asked") == "0"
    assert not [r for r in carols if r["section"].startswith("sla_by")]
    refused = await (await browser("mary")).http.get("/app/tickets/reports.csv")
    assert (refused.status_code, refused.text) == (403, "Ticket reports are for agents and admins.")
    signed_out = await browser()
    page = await signed_out.http.get("/app/tickets/reports")
    file = await signed_out.http.get("/app/tickets/reports.csv?days=7")
    assert file.status_code == page.status_code == 303
    assert file.headers["location"] == page.headers["location"] == "/app/login"


async def test_csv_cells_a_spreadsheet_would_run_are_defused_and_chinese_kept(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """Team, agent and policy names are user text: one starting like a formula gets a leading
    `'`; Chinese names come back as they were written."""
    names = {
        "sales": '=HYPERLINK("http://evil.test","x")',
        "support": "客服部",
        "alice": "+SUM(1,2)",
        "bob": "@cmd",
    }
    for who, name in names.items():
        collection = core.store.teams if who in ("sales", "support") else core.store.users
        await collection.update_one({"_id": cast.users[who].id}, {"$set": {"name": name}})
    await _policy(core, cast, name="-2+3")
    await _desk(core, cast, clock)
    rows = _csv_rows(await (await browser("admin")).http.get("/app/tickets/reports.csv"))
    teams = {r["name"] for r in rows if r["section"] == "sla_by_team"}
    assert teams == {'\'=HYPERLINK("http://evil.test","x")', "客服部"}
    agents = {r["name"] for r in rows if r["section"] == "satisfaction_by_agent"}
    assert agents == {"'+SUM(1,2)", "'@cmd"}
    assert {r["name"] for r in rows if r["section"] == "sla_by_policy"} == {"'-2+3"}
    zh = _csv_rows(await (await browser("admin")).http.get("/app/tickets/reports.csv?lang=zh"))
    assert _figure(zh, "satisfaction_by_team", "客服部", "average_score") == "2.0"
    await core.store.teams.update_one(
        {"_id": cast.users["support"].id}, {"$set": {"name": "\tTab"}}
    )
    await tickets(core).update_many(
        {"workspace_id": cast.workspace_id}, {"$set": {"team_id": None}}
    )
    rows = _csv_rows(await (await browser("admin")).http.get("/app/tickets/reports.csv"))
    assert "'\tTab" in {r["name"] for r in rows if r["section"] == "satisfaction_by_team"}
    assert {r["name"] for r in rows if r["section"] == "sla_by_team"} == {"No team"}
    zh = _csv_rows(await (await browser("admin")).http.get("/app/tickets/reports.csv?lang=zh"))
    assert {r["name"] for r in zh if r["section"] == "sla_by_team"} == {"无团队"}


async def test_the_sla_chart_draws_percent_met_per_metric_with_words(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
    desk: None,
) -> None:
    reader = await browser("admin")
    answer = await reader.http.get("/app/tickets/reports")
    chart = re.search(r'<svg class="chart"[^>]* id="chart-sla".*?</svg>', answer.text, re.S)
    assert chart, answer.text
    svg = chart.group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-sla-title" aria-describedby="chart-sla-desc"' in svg
    assert '<title id="chart-sla-title">SLA targets met per metric</title>' in svg
    assert (
        '<desc id="chart-sla-desc">Share of targets met: First reply 50% (1 of 2), '
        "Next reply none yet, Resolution 100% (2 of 2).</desc>"
    ) in svg
    bars = dict(re.findall(r'data-metric="(\w+)" data-percent="([\d.]*)"', svg))
    assert bars == {m.value: p for m, p in zip(Metric, ("50.0", "", "100.0"), strict=True)}
    assert Tables(answer.text).rows("sla-policies")  # the tables stay
    bobs = (await (await browser("bob")).http.get("/app/tickets/reports")).text
    assert 'data-metric="first_reply" data-percent="0.0"' in bobs  # none met is no "none yet"
    assert "First reply 0% (0 of 1)" in bobs
    zh = await reader.http.get("/app/tickets/reports?lang=zh")
    assert '<title id="chart-sla-title">各指标的 SLA 达成率</title>' in zh.text
    assert "首次回复 50%（2 个中达成 1 个）、" in zh.text
    empty = await reader.http.get("/app/tickets/reports?from=2025-12-01&to=2025-12-02")
    assert 'id="chart-sla"' not in empty.text  # no SLA figures, no chart: the words say so
