"""The customer's wait, with the inbox and the widget side by side in Debian's Chromium.

The visitor asks on the sample shop page and sees how long the team usually takes and an
offer to leave their email; 李娜 answers in the inbox, by keyboard: what she types as a
private note never reaches the widget, a reply does ("… is typing…") until it is delivered.
In English and in Chinese.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    InboundMessage,
    InboundUser,
    OutboundContent,
    Role,
)
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from kith.web.app import create_app
from tests.connectors.webchat.served import serve
from tests.connectors.webchat.test_widget_offline_browser import eventually
from tests.connectors.webchat.test_widget_waiting_browser import conversation_with, open_chat
from tests.support.browser import chromium, needs_chromium
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TITLE = "Northwind Tea"
AGENT = "李娜"
WORDS = {
    "en": {
        "locale": "en-US",
        "open": "Open chat",
        "box": "Message",
        "usual": "Usually replies in about 4 minutes",
        "ask": "Leave your email and we'll reply there too",
        "bad": "That doesn't look like an email address.",
        "thanks": "Thanks! We'll reply to ada@example.com too.",
        "typing": "{name} is typing…",
        "login": ("Email", "Password", "Log in"),
    },
    "zh": {
        "locale": "zh-CN",
        "open": "打开聊天",
        "box": "消息",
        "usual": "通常在 4 分钟内回复",
        "ask": "留下您的邮箱，我们也会通过邮件回复您",
        "bad": "这不像是一个邮箱地址。",
        "thanks": "谢谢！我们也会回复到 ada@example.com。",
        "typing": "{name} 正在输入…",
        "login": ("邮箱", "密码", "登录"),
    },
}


@pytest.fixture
async def shop(core: Core, workspace_id: str) -> AsyncIterator[dict[str, Any]]:
    channel, _ = await create_channel(core, workspace_id, "webchat", "nw-web", {"title": TITLE})
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager, serve(manager.app) as base:
        yield {"page": f"{base}/demo/widget/{channel.id}", "kith": base, "channel": channel}


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def answered_before(core: Core, channel: Channel, clock: ManualClock) -> None:
    """Three earlier visitors, answered after 3, 4 and 6 minutes: the usual wait is 4."""
    team = Author(kind=AuthorKind.agent, id=None, name="API")
    for n, minutes in enumerate((3, 4, 6)):
        received = await ingest(
            core,
            channel,
            InboundMessage.on(
                channel, channel_message_id=f"earlier-{n}", user=InboundUser(id=f"v-{n}"), text="hi"
            ),
        )
        clock.advance(minutes * 60)
        await send(core, received.conversation, OutboundContent(text="hello"), team)


async def sign_in(browser: Any, base: str, words: dict[str, Any]) -> Any:
    from playwright.async_api import expect

    context = await browser.new_context(
        locale=words["locale"], viewport={"width": 1300, "height": 860}
    )
    page = await context.new_page()
    await page.goto(base + "/app")
    email, password, log_in = words["login"]
    await page.get_by_label(email).fill("li.na@kith.test")
    await page.get_by_label(password).fill(PASSWORD)
    await page.get_by_role("button", name=log_in).click()
    await expect(page.locator("body[data-live='true']")).to_be_attached(timeout=15_000)
    return page


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_customer_sees_the_usual_wait_leaves_an_email_and_sees_replies_typed(
    core: Core,
    workspace_id: str,
    shop: dict[str, Any],
    browser: Any,
    clock: ManualClock,
    language: str,
) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    await answered_before(core, shop["channel"], clock)
    await create_user(core, workspace_id, "li.na@kith.test", PASSWORD, name=AGENT, role=Role.admin)

    # the customer, on the shop's page, by keyboard
    context = await browser.new_context(locale=words["locale"], timezone_id="UTC")
    widget = await context.new_page()
    log = await open_chat(widget, shop["page"], words)
    question = "<b>where</b> is my order?"
    await widget.keyboard.type(question)  # the box has the focus once the chat opens
    await widget.keyboard.press("Enter")
    conversation = await conversation_with(core, question)
    panel = widget.get_by_role("dialog")
    await expect(panel.locator(".kith-wait")).to_have_text(words["usual"])
    email = panel.get_by_label(words["ask"])
    await expect(email).to_be_visible()
    await email.focus()
    await widget.keyboard.type("ada@")
    await widget.keyboard.press("Enter")
    await expect(panel.get_by_role("alert")).to_have_text(words["bad"])
    await expect(email).to_have_attribute("aria-invalid", "true")
    await email.fill("ada@example.com")
    await widget.keyboard.press("Enter")
    await expect(panel.locator(".kith-email-thanks")).to_have_text(words["thanks"])
    await expect(panel.locator(".kith-email")).to_be_hidden()
    stored = await core.store.customers.find_one({"_id": conversation.customer_id})
    assert stored is not None and stored["emails"] == ["ada@example.com"]
    assert stored["locale"] == words["locale"]  # the browser's language, from the first message

    # 李娜 in the inbox beside it, by keyboard: a note first, then a reply
    inbox = await sign_in(browser, shop["kith"], words)
    await inbox.goto(f"{shop['kith']}/app?conversation={conversation.id}")
    await expect(inbox.locator("body[data-live='true']")).to_be_attached(timeout=15_000)
    note_toggle = inbox.locator("#private")
    await note_toggle.focus()
    await inbox.keyboard.press("Space")
    await expect(note_toggle).to_be_checked()
    await inbox.locator("#reply").focus()
    await inbox.keyboard.type("checking the warehouse")
    await eventually(
        lambda: core.store.collection("presence").find_one({"state": "noting"}),
        "the note being typed was never reported",
    )
    typing = panel.locator(".kith-typing")
    await expect(typing).to_be_hidden()  # a note: the customer sees nothing
    await note_toggle.focus()
    await inbox.keyboard.press("Space")  # now it is a reply
    await expect(note_toggle).not_to_be_checked()
    # she has not written to this customer yet: the widget speaks as the business
    await expect(typing).to_have_text(words["typing"].format(name=TITLE))
    await inbox.locator("#reply").focus()
    await inbox.keyboard.press("ControlOrMeta+a")
    await inbox.keyboard.type("It ships today.")
    await inbox.keyboard.press("Enter")
    await eventually(
        lambda: core.store.messages.find_one({"text": "It ships today."}), "the reply was not sent"
    )
    await OutboxWorker(core).run_once()
    await expect(log.locator(".kith-out").filter(has_text="It ships today.")).to_be_visible()
    await expect(typing).to_be_hidden()
    await expect(panel.locator(".kith-wait")).to_be_hidden()  # answered: no one waits

    await inbox.locator("#reply").focus()
    await inbox.keyboard.type("Anything else?")
    await expect(typing).to_have_text(words["typing"].format(name=AGENT))  # known by now
    await inbox.keyboard.press("Enter")
    await eventually(lambda: core.store.messages.find_one({"text": "Anything else?"}), "not sent")
    await OutboxWorker(core).run_once()
    await expect(log.locator(".kith-out").filter(has_text="Anything else?")).to_be_visible()
    await expect(typing).to_be_hidden()
    await expect(log.locator("b")).to_have_count(0)  # the customer's text stays text
    await context.close()
    await inbox.context.close()
