"""Replying from the ticket page in a real browser, by keyboard: the linked conversation's
latest messages (customer text as text), a blank reply marked at its box, a reply and an
internal note that the inbox shows too; a ticket without a conversation has no reply box; and
in Chinese, outside WeChat's 48-hour window, the reply fails on the ticket page with the reason
the inbox gives."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from kith.core.channel_records import create_channel, load
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.tickets.actions import do_create_ticket
from kith.tickets.models import TicketIn
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.tickets.test_ticket_replies import WECHAT
from tests.tickets.test_tickets_browser import seed, ticket_id

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed_wechat(core: Core, workspace: Workspace) -> None:
    """The list's seed, and 韩梅梅's WeChat conversation (a channel of Alice's team), silent
    for three days, with a ticket."""
    await seed(core, workspace)
    channel, _ = await create_channel(core, workspace.id, "wechat", "公众号", WECHAT)
    await core.store.teams.update_one({"name": "Web"}, {"$push": {"channel_ids": channel.id}})
    said = InboundMessage.on(
        channel, channel_message_id="w1", user=InboundUser(id="o-han", name="韩梅梅"), text="在吗？"
    )
    conversation = (await ingest(core, channel, said)).conversation
    long_ago = core.clock.now() - timedelta(days=3)
    await core.store.messages.update_many(
        {"conversation_id": conversation.id}, {"$set": {"created_at": long_ago}}
    )
    await core.store.conversations.update_one(
        {"_id": conversation.id}, {"$set": {"created_at": long_ago}}
    )
    body = TicketIn(subject="微信售后", conversation_id=conversation.id)
    await do_create_ticket(core, workspace.id, body)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed_wechat) as app:
        yield app


async def test_a_reply_and_a_note_by_keyboard_reach_the_inbox(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    refund = await ticket_id(live, "Refund <b>please</b>")
    await page.goto(live.url + f"/app/tickets/{refund}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    box = page.get_by_role("region", name="Conversation with the customer")
    thread = box.get_by_role("list", name="Latest messages")
    await expect(thread).to_contain_text("My parcel never came <b>at all</b>")
    await expect(thread.locator("b")).to_have_count(0)  # customer text is text
    await assert_every_control_is_named(page)

    reply = box.get_by_role("textbox", name="Reply to the customer")
    await box.get_by_role("button", name="Send reply").focus()
    await page.keyboard.press("Enter")  # nothing written: refused, marked at the box
    await expect(reply).to_have_attribute("aria-invalid", "true")
    await expect(box.locator('[data-field="text"] .field-error')).to_have_text(
        "Write a reply first."
    )
    await expect(reply).to_be_focused()
    await page.keyboard.type("Refunded today <i>promise</i>")
    await page.keyboard.press("Control+Enter")
    await expect(page.get_by_role("status").first).to_have_text("Reply sent.")
    await expect(reply).not_to_have_attribute("aria-invalid", "true")
    await expect(reply).to_have_value("")
    sent = thread.get_by_role("listitem").filter(has_text="Refunded today <i>promise</i>")
    await expect(sent).to_contain_text("You")

    note = box.get_by_role("checkbox", name="As a note for colleagues (not sent to the customer)")
    await note.focus()
    await page.keyboard.press("Space")
    await expect(box.get_by_role("button", name="Add internal note")).to_be_visible()
    await page.keyboard.press("Tab")
    await expect(reply).to_be_focused()
    await page.keyboard.type("Ask finance first")
    await page.keyboard.press("Control+Enter")
    await expect(page.get_by_role("status").first).to_have_text("Note added to the conversation.")
    await expect(
        thread.get_by_role("listitem").filter(has_text="Ask finance first")
    ).to_contain_text("Alice · Note")
    stored = await live.core.store.messages.find_one({"text": "Ask finance first"})
    assert stored is not None and stored["private"] is True
    await keep_screenshot(page, "ticket-reply-en.png", tmp_path)

    # The inbox shows both, in the same conversation.
    await page.get_by_role("link", name="Open in the inbox").click()
    messages = page.get_by_role("list", name="Messages")
    await expect(messages).to_contain_text("Refunded today <i>promise</i>")
    await expect(messages).to_contain_text("Ask finance first")

    # A ticket with no conversation has no reply box.
    await page.goto(live.url + f"/app/tickets/{await ticket_id(live, 'App crash')}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.get_by_role("region", name="Conversation with the customer")).to_have_count(0)
    await expect(page.get_by_role("textbox", name="Reply to the customer")).to_have_count(0)


async def test_outside_wechats_window_the_page_says_what_the_inbox_says_in_chinese(
    live: Live,
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.clock.install()  # the page's refresh is run forward, not waited for
    await page.goto(live.url + f"/app/tickets/{await ticket_id(live, '微信售后')}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    box = page.get_by_role("region", name="与客户的会话")
    thread = box.get_by_role("list", name="最近的消息")
    await expect(thread).to_contain_text("在吗？")
    reply = box.get_by_role("textbox", name="回复客户")
    await reply.focus()
    await page.keyboard.type("   ")
    await page.keyboard.press("Control+Enter")
    await expect(box.locator('[data-field="text"] .field-error')).to_have_text("请先写下回复内容。")
    await page.keyboard.press("Control+a")
    await page.keyboard.type("抱歉久等了")
    await page.keyboard.press("Control+Enter")
    await expect(page.get_by_role("status").first).to_have_text("回复已发送。")
    failed = thread.get_by_role("listitem").filter(has_text="抱歉久等了").locator(".delivery-line")
    for _ in range(20):  # the outbox worker fails it; the page's 15-second refresh shows it
        await page.clock.run_for(15_000)
        try:
            await expect(failed).to_contain_text("发送失败", timeout=1000)
            break
        except AssertionError:
            continue
    await expect(failed).to_contain_text(re.compile(r"^发送失败 Outside WeChat's 48-hour"))
    await expect(failed.get_by_role("button", name="重试")).to_be_visible()
    on_ticket = await failed.locator(".delivery-error").inner_text()

    inbox = await live.sign_in("alice@kith.test", locale="zh-CN")
    doc = await live.core.store.messages.find_one({"text": "抱歉久等了"})
    assert doc is not None and doc["delivery"]["status"] == "failed"
    await inbox.goto(live.url + f"/app?conversation={doc['conversation_id']}")
    item = (
        inbox.get_by_role("list", name="消息").get_by_role("listitem").filter(has_text="抱歉久等了")
    )
    await expect(item.locator(".delivery-line")).to_contain_text("失败")
    await expect(item.locator(".delivery-error")).to_have_text(on_ticket)


async def test_the_thread_keeps_its_place_and_messages_as_it_refreshes(live: Live) -> None:
    """Regression: every 15 s the thread was drawn anew and scrolled to its end, so an agent
    reading an older message was thrown to the bottom, and text they selected lost."""
    from playwright.async_api import expect

    channel = load(live.core, await live.core.store.channels.find_one({"name": "Website"}))
    ada = InboundUser(id="u-ada", name="Ada Lovelace")

    async def ada_says(n: int) -> None:
        said = InboundMessage.on(channel, channel_message_id=f"u-ada-{n}", user=ada, text=f"№{n}")
        await ingest(live.core, channel, said)

    for n in range(2, 16):
        await ada_says(n)
    page = await live.sign_in("alice@kith.test")
    await page.clock.install()
    await page.goto(live.url + f"/app/tickets/{await ticket_id(live, 'Refund <b>please</b>')}")
    thread = page.get_by_role("list", name="Latest messages")
    await expect(thread.get_by_role("listitem").last).to_contain_text("№15")
    ends = "(t) => t.scrollHeight - t.scrollTop - t.clientHeight < 8"
    assert await thread.evaluate(ends), "a conversation opens at its end"

    # The agent scrolls up and marks the first message shown; a new message comes.
    await thread.evaluate("(t) => { t.scrollTop = 0; window.marked = t.firstElementChild; }")
    await ada_says(16)
    async with page.expect_response(re.compile(r"/conversations/[^/?]+$")):
        await page.clock.run_for(15_000)
    await expect(thread.get_by_role("listitem").last).to_contain_text("№16")
    assert await thread.evaluate("(t) => t.scrollTop") == 0
    assert await thread.evaluate("(t) => t.firstElementChild === window.marked")

    # At the end again, the next message comes into view.
    await thread.evaluate("(t) => { t.scrollTop = t.scrollHeight; }")
    await ada_says(17)
    async with page.expect_response(re.compile(r"/conversations/[^/?]+$")):
        await page.clock.run_for(15_000)
    await expect(thread.get_by_role("listitem").last).to_contain_text("№17")
    assert await thread.evaluate(ends)
