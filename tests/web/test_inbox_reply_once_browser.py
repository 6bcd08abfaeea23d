"""The inbox's reply box: Enter pressed again while the first reply is on its way (its text
still in the box) sends one reply, not two; a note the same. The Send button was disabled
while sending, but Enter submits the form whatever the button says.

Regression (QA probe of the demo): two Enters 150 ms apart on a connection with 400 ms of
latency sent the customer the same reply twice."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.settings import Settings
from tests.orders.test_panel_browser import seed
from tests.support.browser import needs_chromium
from tests.support.held import Held
from tests.support.pages import Live, live_app

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def outbound(live: Live, text: str) -> int:
    return await live.core.store.messages.count_documents({"direction": "out", "text": text})


@pytest.mark.parametrize("note", [False, True])
async def test_a_second_enter_while_the_reply_is_sent_sends_nothing_more(
    live: Live, note: bool
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.get_by_role("button", name=re.compile("李雷")).click()
    conversation = await live.core.store.conversations.find_one({})
    assert conversation is not None
    held = Held(f"/conversations/{conversation['_id']}/messages")
    await held.install(page)

    reply = page.locator("#reply")
    if note:
        await page.locator("#private").check()
    await reply.fill("Your tea ships today.")
    await reply.press("Enter")
    await held.first()
    await reply.press("Enter")  # the first still on its way, its text still in the box
    held.release()
    await expect(reply).to_have_value("")
    await expect(page.locator("#send")).to_be_enabled()
    assert held.sent == 1
    assert await outbound(live, "Your tea ships today.") == 1

    await reply.fill("And a sample of oolong.")  # the next reply goes as before
    await reply.press("Enter")
    await expect(reply).to_have_value("")
    assert held.sent == 2
    assert await outbound(live, "And a sample of oolong.") == 1
