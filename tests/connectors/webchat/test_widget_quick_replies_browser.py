"""The widget's quick replies and its "typing…" line, in Debian's Chromium, English and
Chinese, by keyboard.

Quick replies answer the newest message only: after the bot hands the visitor to a person
(it says so first), its earlier buttons are greyed and disabled but still readable, so that
none sends words that no bot answers; a reload draws them the same. Regression: they stayed
live and a press went unanswered.

The "typing…" line expires in the browser when the stream falls silent, on the time its
frame gave: driven by Playwright's clock, no sleeping.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Button, OutboundContent
from kith.core.outbox import OutboxWorker, send
from tests.connectors.webchat.test_widget_waiting_browser import (
    open_chat,
    visitor_says_hello,
)
from tests.support.browser import needs_chromium

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
WORDS = {
    "en": {"locale": "en-US", "open": "Open chat", "box": "Message", "typing": "{name} is typing…"},
    "zh": {"locale": "zh-CN", "open": "打开聊天", "box": "消息", "typing": "{name} 正在输入…"},
}
BOT = Author(kind=AuthorKind.bot, id="shop-assistant", name="Shop assistant")


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_quick_replies_before_a_hand_off_are_disabled_and_stay_readable(
    core: Core, demo_page: str, chromium_browser: Any, language: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    page, log, box, conversation = await visitor_says_hello(
        core, chromium_browser, demo_page, words
    )

    menu = [Button(label="Track <b>order</b>", payload="track"), Button(label="人工", payload="h")]
    await send(core, conversation, OutboundContent(text="Pick one", buttons=menu), BOT)
    await OutboxWorker(core).run_once()
    track = log.get_by_role("button", name="Track <b>order</b>")
    await expect(track).to_be_enabled()  # the newest message's: live
    await track.focus()  # the visitor is on it, by keyboard, when the bot hands off

    await send(core, conversation, OutboundContent(text="Passing you to a person."), BOT)
    await OutboxWorker(core).run_once()
    await expect(log.get_by_text("Passing you to a person.")).to_be_visible()
    for label in ("Track <b>order</b>", "人工"):
        await expect(log.get_by_role("button", name=label)).to_be_disabled()
        await expect(log.get_by_role("button", name=label)).to_have_text(label)  # readable
    await expect(box).to_be_focused()  # focus is not lost with the button
    style = await track.evaluate(
        "(b) => { const s = getComputedStyle(b); return [s.opacity, s.color]; }"
    )
    assert style == ["1", "rgb(95, 107, 102)"]  # greyed, not faded: #5f6b66 on #f3f5f4
    await track.click(force=True)  # a disabled button sends nothing
    assert await core.store.messages.count_documents({"text": "Track <b>order</b>"}) == 0
    await expect(log.locator("b")).to_have_count(0)  # labels stay text
    # nothing more announced than the disabled state: no live region in the log gained text
    assert await log.evaluate("(l) => l.querySelectorAll('[aria-live]').length") == 0

    await page.reload()
    log = await open_chat(page, demo_page, words)
    await expect(log.get_by_text("Passing you to a person.")).to_be_visible()
    await expect(log.get_by_role("button", name="Track <b>order</b>")).to_be_disabled()
    await page.context.close()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_typing_line_expires_on_the_browsers_clock_when_the_stream_falls_silent(
    demo_page: str, chromium_browser: Any, language: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    context = await chromium_browser.new_context(locale=words["locale"])
    page = await context.new_page()
    first = asyncio.Event()
    go = asyncio.Event()
    frames = 0

    async def events(route: Any) -> None:
        """The first stream says 李娜 types for 5 s, then ends; the next ones say nothing."""
        nonlocal frames
        frames += 1
        body = ": connected\n\n"
        if frames == 1:
            first.set()
            await go.wait()
            body += 'event: typing\ndata: {"name": "李娜", "expires_in": 5}\n\n'
        await route.fulfill(status=200, content_type="text/event-stream", body=body)

    await page.route(lambda url: url.endswith("/events") or "/events?" in url, events)
    await page.clock.install()
    await open_chat(page, demo_page, words)
    await asyncio.wait_for(first.wait(), 15)
    now = await page.evaluate("Date.now()")
    await page.clock.pause_at(now + 1000)  # from here the page's time moves only when told
    go.set()
    typing = page.locator("[data-kith-chat] .kith-typing")
    line = words["typing"].format(name="李娜")
    await expect(typing).to_have_text(line)
    await page.clock.run_for(4_000)  # the stream said nothing more; 4 of 5 seconds gone
    await expect(typing).to_have_text(line)
    await expect(typing).to_be_visible()
    await page.clock.run_for(1_000)
    await expect(typing).to_be_hidden()
    await context.close()
