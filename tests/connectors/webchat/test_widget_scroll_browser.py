"""The widget's log and new messages, in Debian's Chromium, English and Chinese: a visitor at
the end of the log sees each new message; one who scrolled up to read an earlier answer
stays there, and a "new messages" button below says more came (Enter on it goes to the end
and back to the message box). The visitor's own message always shows.

Regression: every message, and every notice, scrolled the log to its end, so a visitor
reading a long bot answer was thrown to the bottom by the next reply.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kith.core.context import Core
from kith.core.models import Author, AuthorKind, OutboundContent
from kith.core.outbox import OutboxWorker, send
from tests.connectors.webchat.test_widget_waiting_browser import (
    visitor_says_hello,
)
from tests.support.browser import needs_chromium

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
WORDS = {
    "en": {"locale": "en-US", "open": "Open chat", "box": "Message", "newer": "New messages below"},
    "zh": {"locale": "zh-CN", "open": "打开聊天", "box": "消息", "newer": "下方有新消息"},
}
BOT = Author(kind=AuthorKind.bot, id="shop-assistant", name="Shop assistant")
AT_END = "(l) => l.scrollHeight - l.scrollTop - l.clientHeight < 40"
TWO_FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


async def at_end(log: Any) -> bool:
    """Whether the log comes to rest at its end (a line appearing below it, such as the usual
    wait, shrinks it first; the widget scrolls to the end again on its next frame)."""
    for _ in range(100):
        if await log.evaluate(AT_END):
            return True
        await asyncio.sleep(0.05)
    return False


async def scroll(page: Any, log: Any, up: bool = True) -> None:
    """The visitor wheels the log to its top (or its end); its scroll events are handled
    (two frames)."""
    await log.hover()
    await page.mouse.wheel(0, -10_000 if up else 10_000)
    there = "(l) => l.scrollTop === 0" if up else AT_END
    for _ in range(100):
        if await log.evaluate(there):
            break
        await asyncio.sleep(0.05)
    await page.evaluate(TWO_FRAMES)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_visitor_reading_further_up_stays_there(
    core: Core, demo_page: str, chromium_browser: Any, language: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    page, log, box, conversation = await visitor_says_hello(
        core, chromium_browser, demo_page, words
    )

    async def bot_says(text: str) -> None:
        await send(core, conversation, OutboundContent(text=text), BOT)
        await OutboxWorker(core).run_once()
        await expect(log.get_by_text(text)).to_be_visible()

    answer = "\n".join(f"Step {n}: steep the leaves a little longer." for n in range(1, 30))
    await bot_says(answer)
    await bot_says("Anything else?")
    assert await at_end(log), "at the end, the log follows each message"
    newer = page.get_by_role("button", name=words["newer"])
    await expect(newer).to_be_hidden()

    await scroll(page, log)  # back up to read the steps
    await send(core, conversation, OutboundContent(text="A person will be with you."), BOT)
    await OutboxWorker(core).run_once()
    await expect(newer).to_be_visible()
    assert await log.evaluate("(l) => l.scrollTop") == 0

    await newer.focus()
    await page.keyboard.press("Enter")
    await expect(newer).to_be_hidden()
    assert await at_end(log)
    await expect(box).to_be_focused()

    # Up, and back down by hand: following again, no button for the next message.
    await scroll(page, log)
    await scroll(page, log, up=False)
    await send(core, conversation, OutboundContent(text="Still here?"), BOT)
    await OutboxWorker(core).run_once()
    await expect(log.get_by_text("Still here?")).to_be_visible()
    assert await at_end(log)
    await expect(newer).to_be_hidden()

    await scroll(page, log)
    await box.fill("thanks")
    await box.press("Enter")  # the visitor's own words are always shown
    await expect(log.get_by_text("thanks")).to_be_visible()
    assert await at_end(log)
    await expect(newer).to_be_hidden()
