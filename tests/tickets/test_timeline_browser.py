"""A ticket's timeline in a real browser, in Chinese: the customer's message that opened it
first, one line per change saying from what to what (a move once, not also as "修改了 状态"),
and the survey's events in words rather than their codes (QA service desk #1, #2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.models import InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.tickets.actions import do_create_ticket, do_update_ticket
from kith.tickets.models import Priority, Status, TicketIn, TicketPatch
from tests.support.browser import needs_chromium
from tests.support.pages import Live, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed(core: Core, workspace: Workspace) -> None:
    ws = workspace.id
    channel, _ = await create_channel(core, ws, "api", "Website", {})
    user = InboundUser(id="u-li", name="李雷")
    said = InboundMessage.on(channel, channel_message_id="li-1", user=user, text="包裹还没到")
    received = await ingest(core, channel, said)
    await create_user(core, ws, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin)
    body = TicketIn(subject="包裹", conversation_id=received.conversation.id)
    ticket = await do_create_ticket(core, ws, body, message_id=received.message.id)
    patch = TicketPatch(status=Status.open, priority=Priority.urgent)
    await do_update_ticket(core, ws, ticket.id, patch)
    for type_, score, reason in (
        ("ticket.csat_requested", None, None),
        ("ticket.csat_received", 2, "太慢了"),
    ):
        data = {"ticket_id": ticket.id, "number": ticket.number, "score": score, "reason": reason}
        await record(core, build_event(core, ws, type_, data=data))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_the_timeline_in_chinese_says_each_change_once_from_what_to_what(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    doc = await live.core.store.collection("tickets").find_one({"subject": "包裹"})
    assert doc is not None
    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + f"/app/tickets/{doc['_id']}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    timeline = page.get_by_role("list", name="时间线")
    entries = timeline.get_by_role("listitem")
    await expect(entries).to_have_count(5)
    await expect(entries.first).to_contain_text("包裹还没到")  # what opened it, first
    await expect(entries.nth(1)).to_contain_text("创建了工单")
    changed = entries.nth(2).locator("p.event")
    await expect(changed).to_have_text(
        ["把状态从「新建」改为「处理中」", "把优先级从「普通」改为「紧急」"]
    )
    await expect(entries.nth(3)).to_contain_text("请客户评价了服务")
    await expect(entries.nth(4)).to_contain_text("客户评分：2 / 5 分")
    await expect(entries.nth(4)).to_contain_text("原因：“太慢了”")
    await expect(timeline).not_to_contain_text("修改了")
    await expect(timeline).not_to_contain_text("ticket.")
    await keep_screenshot(page, "ticket-timeline-zh.png", tmp_path)
