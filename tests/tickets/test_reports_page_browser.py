"""The ticket reports page in a real browser: an admin follows the tickets page's link and
reads satisfaction and "% SLA met" in English, an agent reads their team's in Chinese, and
each changes the period by keyboard alone. The clock is fixed, so
the period's dates are known."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.models import Author, AuthorKind, OutboundContent, Role, Workspace
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.models import Status, TicketIn
from kith.tickets.sla_models import PolicyIn, Targets
from kith.tickets.sla_store import save_policy
from tests.support.browser import needs_chromium
from tests.support.cast import inbound
from tests.support.consumers import drain
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def fixed_clock(core: Core) -> None:
    core.clock = ManualClock(NOW)


async def seed(core: Core, workspace: Workspace) -> None:
    """Two tickets of the Web team, answered in time by Alice, solved and rated 4 and 5."""
    clock = core.clock
    assert isinstance(clock, ManualClock)
    ws = workspace.id
    channel, _ = await create_channel(core, ws, "api", "Website", {})
    await save_policy(
        core,
        ws,
        PolicyIn.model_validate(
            {"name": "Standard", "default": True, "targets": {"normal": Targets(first_reply=60)}}
        ),
    )
    team = await create_team(core, ws, "Web", [channel.id])
    await create_user(core, ws, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin)
    alice = await create_user(core, ws, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent)
    await add_member(core, ws, team.id, alice.id)
    agent = Author(kind=AuthorKind.agent, id=alice.id, name="Alice")
    for who, score in (("ada", "4"), ("li", "5")):
        received = await ingest(core, channel, inbound(channel, who, "Where is my order?"))
        body = TicketIn(
            subject="Late", conversation_id=received.conversation.id, assignee_id=alice.id
        )
        ticket = await do_create_ticket(core, ws, body)
        clock.advance(300)
        conversation = await get_conversation(core, ws, received.conversation.id)
        await send(core, conversation, OutboundContent(text="On it"), agent)
        await drain(core)
        await do_move_ticket(core, ws, ticket.id, Status.solved)
        await drain(core)  # the survey is asked
        clock.advance(60)
        await ingest(core, channel, inbound(channel, who, score, message_id=f"score-{who}"))
        await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, prepare=fixed_clock) as app:
        yield app


async def _choose_period_by_keyboard(page: object, key: str, button: str) -> None:
    """The period's list focused, moved by an arrow, then Tab to the button and Enter."""
    select = page.locator("#period")  # type: ignore[attr-defined]
    await select.focus()
    await page.keyboard.press(key)  # type: ignore[attr-defined]
    await page.keyboard.press("Tab")  # type: ignore[attr-defined]
    focused = page.get_by_role("button", name=button)  # type: ignore[attr-defined]
    from playwright.async_api import expect

    await expect(focused).to_be_focused()
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]


async def test_an_admin_reads_the_figures_and_changes_the_period(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/tickets")
    await page.get_by_role("link", name="Reports").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(live.url + "/app/tickets/reports")
    await assert_every_control_is_named(page)
    await expect(page.locator('[data-figure="answered"]')).to_have_text("2")
    await expect(page.locator('[data-figure="response_rate"]')).to_have_text("100%")
    await expect(page.locator('[data-figure="average"]')).to_have_text("4.5 out of 5")
    chart = page.get_by_role("img", name="Scores given")
    await expect(chart).to_be_visible()
    await expect(chart.locator("rect[data-score='5']")).to_have_attribute("data-count", "1")
    scores = page.get_by_role("table", name="Scores given, as a table")
    await expect(scores.get_by_role("row", name="4 out of 5 1 50%")).to_be_visible()
    agents = page.get_by_role("table", name="By agent").first
    await expect(agents.get_by_role("row", name=re.compile("^Alice 2 2 100%"))).to_be_visible()
    await expect(page.locator('[data-figure="first_reply"]')).to_have_text("100% (2 of 2)")
    policies = page.get_by_role("table", name="By policy")
    await expect(policies.get_by_role("rowheader", name="Standard")).to_be_visible()
    await expect(page.locator("#period-dates")).to_have_text("From 7 Nov 2026 to 7 Dec 2026")
    await _choose_period_by_keyboard(page, "ArrowDown", "Show")
    await expect(page).to_have_url(live.url + "/app/tickets/reports?days=90")
    await expect(page.get_by_label("Period")).to_have_value("90")
    await expect(page.locator("#period-dates")).to_have_text("From 8 Sep 2026 to 7 Dec 2026")


async def test_an_agent_reads_their_teams_figures_in_chinese(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    await page.goto(live.url + "/app/tickets/reports")
    await assert_every_control_is_named(page)
    # QA: the tables squeezed to the window broke "无团队" a character a line; they scroll in
    # their own boxes, every cell's words whole, and the page does not scroll sideways.
    sideways = "[document.scrollingElement.scrollWidth, document.documentElement.clientWidth]"
    scroll, width = await page.evaluate(sideways)
    assert scroll <= width, (scroll, width)
    broken = """() => [...document.querySelectorAll('.reports .grid th, .reports .grid td')]
      .filter((cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
      }).map((cell) => cell.textContent)"""
    assert await page.evaluate(broken) == []
    await expect(page.get_by_role("heading", level=1)).to_have_text("工单报表")
    await expect(page.locator('[data-figure="average"]')).to_have_text("4.5 / 5 分")
    await expect(page.get_by_role("img", name="评分分布")).to_be_visible()
    await expect(page.locator('[data-figure="first_reply"]')).to_contain_text("100%")
    await _choose_period_by_keyboard(page, "ArrowUp", "查看")
    await expect(page).to_have_url(live.url + "/app/tickets/reports?days=7")
    await expect(page.get_by_label("时间段")).to_have_value("7")
    await expect(page.locator("#period-dates")).to_have_text("2026年11月30日至2026年12月7日")
    await expect(page.locator('[data-figure="answered"]')).to_have_text("2")
