"""A ticket's timeline in a real browser: a conversation's internal note (a private message,
the inbox's "internal note") is shown as a note, never as a message the customer got; a note
of Kith's own (the bot's hand-off) is worded in the page's language, as the inbox words it;
an unnamed customer is "客户 7F3A" / "Customer 7F3A", as everywhere else, not "有人"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import (
    Author,
    AuthorKind,
    InboundMessage,
    InboundUser,
    OutboundContent,
    Role,
    Wording,
    Workspace,
)
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.tickets.actions import do_create_ticket
from kith.tickets.models import TicketIn
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed(core: Core, workspace: Workspace) -> None:
    ws = workspace.id
    channel, _ = await create_channel(core, ws, "api", "Website", {})
    unnamed = InboundUser(id="visitor-1")  # an anonymous visitor: no name, email or phone
    asked = InboundMessage.on(channel, channel_message_id="v-1", user=unnamed, text="我要退款")
    received = await ingest(core, channel, asked)
    await create_user(core, ws, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin)
    agent = await create_user(core, ws, "demo@kith.test", PASSWORD, name="Demo Agent")
    body = TicketIn(subject="退款", conversation_id=received.conversation.id)
    ticket = await do_create_ticket(core, ws, body, message_id=received.message.id)
    conversation = received.conversation
    by_agent = Author(kind=AuthorKind.agent, id=agent.id, name="Demo Agent")
    bot = Author(kind=AuthorKind.bot, id="bot-1", name="Shop assistant")
    later = [ticket.created_at + timedelta(minutes=n) for n in (1, 2, 3)]
    handoff = Wording(key="bot_handoff", values={"reason": "refund or complaint"})
    await send(
        core,
        conversation,
        OutboundContent(text="Bot handed off: refund or complaint", private=True),
        bot,
        at=later[0],
        wording=handoff,
    )
    private = OutboundContent(text="只给同事看：先查订单", private=True)
    await send(core, conversation, private, by_agent, at=later[1])
    await send(
        core, conversation, OutboundContent(text="您好，我们马上处理"), by_agent, at=later[2]
    )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def the_ticket(live: Live) -> tuple[str, str]:
    doc = await live.core.store.collection("tickets").find_one({"subject": "退款"})
    assert doc is not None
    return str(doc["_id"]), str(doc["customer_id"])[-4:].upper()


async def test_a_private_message_is_a_note_and_kiths_own_note_is_in_chinese(live: Live) -> None:
    from playwright.async_api import expect

    ticket_id, code = await the_ticket(live)
    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + f"/app/tickets/{ticket_id}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    timeline = page.get_by_role("list", name="时间线")
    entries = timeline.get_by_role("listitem")

    note = entries.filter(has_text="只给同事看：先查订单")
    await expect(note).to_have_count(1)
    await expect(note.locator(".meta")).to_contain_text("Demo Agent · 备注")
    await expect(note).not_to_contain_text("消息")
    await expect(note).to_have_class("entry entry-note entry-private")

    # The bot's hand-off, as the inbox says it (said_bot_handoff), not the stored English.
    handoff = entries.filter(has_text="机器人已转人工：refund or complaint")
    await expect(handoff).to_have_count(1)
    await expect(handoff.locator(".meta")).to_contain_text("Shop assistant · 备注")
    await expect(timeline).not_to_contain_text("Bot handed off")

    # A reply the customer got stays a message.
    reply = entries.filter(has_text="您好，我们马上处理")
    await expect(reply.locator(".meta")).to_contain_text("Demo Agent · 消息")
    await expect(reply).to_have_class("entry entry-message")

    # The unnamed customer's message: named as everywhere else, never "有人".
    asked = entries.filter(has_text="我要退款")
    await expect(asked.locator(".author")).to_have_text(f"客户 {code}")
    await expect(page.locator("#customer-link")).to_have_text(f"客户 {code}")
    await expect(timeline).not_to_contain_text("有人")


async def test_an_unnamed_customer_is_customer_and_a_code_in_english(live: Live) -> None:
    from playwright.async_api import expect

    ticket_id, code = await the_ticket(live)
    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + f"/app/tickets/{ticket_id}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    timeline = page.get_by_role("list", name="Timeline")
    asked = timeline.get_by_role("listitem").filter(has_text="我要退款")
    await expect(asked.locator(".author")).to_have_text(f"Customer {code}")
    await expect(timeline).not_to_contain_text("Someone")
    note = timeline.get_by_role("listitem").filter(has_text="只给同事看：先查订单")
    await expect(note.locator(".meta")).to_contain_text("Demo Agent · note")
    handoff = timeline.get_by_role("listitem").filter(
        has_text="Bot handed off: refund or complaint"
    )
    await expect(handoff).to_have_class("entry entry-note entry-private")
    # The ticket's conversation box names them the same (it said "Customer" alone).
    thread = page.locator("#thread")
    said = thread.get_by_role("listitem").filter(has_text="我要退款")
    await expect(said.locator(".author")).to_have_text(f"Customer {code}")
