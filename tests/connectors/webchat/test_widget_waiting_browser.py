"""What a visitor sees while the team takes over: who speaks, who joined, and when.

Debian's Chromium driven by Playwright on the sample shop page, in English and in Chinese.
The bot's message is sent as the bot engine sends one, the API reply through the REST API with
a token, and the person's replies as a user of the team; the outbox delivers them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from kith.core.auth import create_api_token, create_user
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Conversation, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.users import author
from kith.web.app import create_app
from tests.connectors.webchat.served import serve
from tests.connectors.webchat.test_widget_offline_browser import eventually
from tests.support.browser import chromium, needs_chromium

pytestmark = needs_chromium
TITLE = "Northwind Tea"  # the widget's title: the business's name to the visitor
AGENT = "李娜"
WORDS = {
    "en": {
        "locale": "en-US",
        "open": "Open chat",
        "box": "Message",
        "joined": f"{AGENT} joined the conversation",
    },
    "zh": {"locale": "zh-CN", "open": "打开聊天", "box": "消息", "joined": f"{AGENT} 已加入对话"},
}


@pytest.fixture
async def shop(core: Core, workspace_id: str) -> AsyncIterator[dict[str, str]]:
    """Kith on a loopback port with a web chat titled TITLE (its record is named otherwise)."""
    channel, _ = await create_channel(core, workspace_id, "webchat", "nw-web", {"title": TITLE})
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager, serve(manager.app) as base:
        yield {"page": f"{base}/demo/widget/{channel.id}", "kith": base}


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def conversation_with(core: Core, text: str) -> Conversation:
    """The conversation the visitor's `text` landed in, once Kith has stored and opened it."""
    message = await eventually(
        lambda: core.store.messages.find_one({"text": text}), f"{text!r} was never stored"
    )
    doc = await eventually(
        lambda: core.store.conversations.find_one({"_id": message["conversation_id"]}),
        f"{text!r} never opened a conversation",
    )
    return Conversation.from_doc(doc)


async def visitor_says_hello(
    core: Core, browser: Any, url: str, words: dict[str, str]
) -> tuple[Any, Any, Any, Conversation]:
    """A visitor in `words`' language opens the chat and says "hello": their page, the log,
    the message box, and the conversation it opened."""
    context = await browser.new_context(locale=words["locale"])
    page = await context.new_page()
    log = await open_chat(page, url, words)
    box = page.get_by_role("textbox", name=words["box"])
    await box.fill("hello")
    await box.press("Enter")
    return page, log, box, await conversation_with(core, "hello")


async def open_chat(page: Any, url: str, words: dict[str, str]) -> Any:
    from playwright.async_api import expect

    await page.goto(url)
    await page.get_by_role("button", name=words["open"]).click()
    log = page.get_by_role("log")
    await expect(log).to_be_visible()
    return log


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_visitor_sees_the_business_who_joined_and_when(
    core: Core,
    workspace_id: str,
    shop: dict[str, str],
    browser: Any,
    clock: ManualClock,
    language: str,
) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    context = await browser.new_context(locale=words["locale"], timezone_id="UTC")
    page = await context.new_page()
    await page.clock.set_fixed_time(clock.now())  # "today" is the server's day, even at midnight
    log = await open_chat(page, shop["page"], words)
    question = "<b>where</b> is my order?"
    await page.get_by_role("textbox", name=words["box"]).fill(question)
    await page.get_by_role("textbox", name=words["box"]).press("Enter")
    conversation = await conversation_with(core, question)

    bot = Author(kind=AuthorKind.bot, id="shop-assistant", name="Shop assistant")
    await send(core, conversation, OutboundContent(text="Let me find a person."), bot)
    clock.advance(1)
    token = await create_api_token(core, workspace_id, "shop backend")
    async with httpx.AsyncClient(base_url=shop["kith"]) as api:
        posted = await api.post(
            f"/api/v1/conversations/{conversation.id}/messages",
            json={"text": "Your order has shipped."},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert posted.status_code == 201, posted.text
    li_na = await create_user(core, workspace_id, "li.na@example.com", "pw-0123456789", name=AGENT)
    for text in ("I'm looking at it now.", "It arrives tomorrow."):
        clock.advance(1)
        await send(core, conversation, OutboundContent(text=text), author(li_na))
    await OutboxWorker(core).run_once()

    api_reply = log.locator(".kith-out").filter(has_text="Your order has shipped.")
    await expect(api_reply.locator(".kith-author")).to_have_text(TITLE)
    await expect(log.locator(".kith-author").filter(has_text="API")).to_have_count(0)
    await expect(
        log.locator(".kith-out").filter(has_text="Let me find a person.").locator(".kith-author")
    ).to_have_text("Shop assistant")
    joined = log.locator(".kith-joined")
    await expect(joined).to_have_count(1)
    await expect(joined).to_have_text(words["joined"])
    # the line comes right before the person's first message, after the API's
    order = await log.evaluate(
        "(log) => Array.from(log.children).map((n) => n.classList.contains('kith-joined')"
        " ? 'joined' : (n.querySelector('.kith-text') || n).textContent)"
    )
    assert order.index("joined") == order.index("I'm looking at it now.") - 1
    assert order.index("joined") > order.index("Your order has shipped.")

    # every message says when, as a machine-readable time in the visitor's format
    times = log.locator(".kith-msg time")
    await expect(times).to_have_count(5)
    today = await times.all_text_contents()
    assert all(any(c.isdigit() for c in t) for t in today), today
    month = "月" if language == "zh" else clock.now().strftime("%b")
    assert not any(month in t for t in today), today  # today: the time alone
    datetimes = [await t.get_attribute("datetime") for t in await times.all()]
    assert all(d and d.endswith("Z") for d in datetimes), datetimes
    assert await page.evaluate("window.__pwned === undefined")
    await expect(log.locator("b")).to_have_count(0)  # the visitor's text stays text

    # a reload two days later: the same one line, and dates beside the times
    await page.clock.set_fixed_time(clock.now() + timedelta(days=2))
    await page.reload()
    log = await open_chat(page, shop["page"], words)
    await expect(log.locator(".kith-msg time")).to_have_count(5)
    await expect(log.locator(".kith-joined")).to_have_count(1)
    await expect(log.locator(".kith-joined")).to_have_text(words["joined"])
    later = await log.locator(".kith-msg time").all_text_contents()
    assert all(month in t for t in later), later
    await context.close()
