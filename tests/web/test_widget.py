"""The web chat widget in a real browser: Debian's Chromium driven by Playwright.

A visitor opens the sample shop page, chats, and an agent's reply (through the outbox)
appears live; a reply carrying markup shows as text; quick replies send their payload; a
second visitor (another browser context) sees none of the first one's conversation.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from starlette.responses import HTMLResponse

from kith.core.channel_records import create_channel, update_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Button, Conversation, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.web.app import create_app
from tests.connectors.webchat.served import serve

CHROMIUM = shutil.which("chromium")
playwright_api = pytest.importorskip(
    "playwright.async_api",
    reason="Playwright for Python is not installed (tests/support/install-browser)",
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (tests/support/install-browser)"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEADLINE = 15.0  # generous: a slow CI machine must not fail a correct widget
expect = playwright_api.expect


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Poll the store until `check` returns something (the browser works on its own time)."""
    async with asyncio.timeout(DEADLINE):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.05)
    raise AssertionError(what)  # pragma: no cover (the timeout raises first)


@pytest.fixture
async def shop(core: Core, clock: ManualClock, workspace_id: str) -> AsyncIterator[dict[str, str]]:
    """Kith on a loopback port with a web chat channel; yields the demo page's URL."""
    # The embedded engine expires TTL documents (rate-limit windows) by the wall clock.
    clock.advance(max(0.0, (datetime.now(UTC) - clock.now()).total_seconds()))
    channel, _ = await create_channel(
        core,
        workspace_id,
        "webchat",
        "Northwind Tea",
        {"title": "Northwind Tea", "greeting": "Hi! Ask us anything about tea."},
    )
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager, serve(manager.app) as base:
        yield {"page": f"{base}/demo/widget/{channel.id}", "channel_id": channel.id, "kith": base}


SHOP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Another site</title></head><body><h1>A shop on its own site</h1>
<script src="{script}" async></script></body></html>"""


@pytest.fixture
async def other_sites(core: Core, shop: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    """Two more sites on this machine embedding the widget; only the first is allowed.

    Kith is at 127.0.0.1, these at `localhost`: another site to the browser, so the chat's
    cookie is a third-party one and the widget relies on its header token.
    """
    page = HTMLResponse(SHOP_PAGE.format(script=f"{shop['kith']}/widget/{shop['channel_id']}.js"))
    async with serve(page, "localhost") as allowed, serve(page, "localhost") as refused:
        workspace_id = (await core.store.channels.find_one({"_id": shop["channel_id"]}))[
            "workspace_id"
        ]
        await update_channel(
            core, workspace_id, shop["channel_id"], config={"allowed_origins": [allowed]}
        )
        yield {"allowed": allowed, "refused": refused}


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    expect.set_options(timeout=int(DEADLINE * 1000))  # global in Playwright: reset below
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=ARGS, headless=True, chromium_sandbox=False
        )
        try:
            yield browser
        finally:
            await browser.close()
            expect.set_options(timeout=None)


async def open_chat(chromium: Any, url: str) -> Any:
    """A new visitor: a fresh browser context (its own cookies and storage) on the shop page."""
    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(url)
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.get_by_role("dialog", name="Northwind Tea")).to_be_visible()
    return page


async def say(page: Any, text: str) -> None:
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.get_by_role("button", name="Send").click()


async def conversation_with(core: Core, text: str) -> Conversation:
    """The conversation once ingest has finished with `text` (its message is stored first,
    its conversation opened next: on a real server a read can fall in between)."""
    doc = await eventually(
        lambda: core.store.messages.find_one({"text": text}), f"{text!r} was never stored"
    )
    conv = await eventually(
        lambda: core.store.conversations.find_one({"_id": doc["conversation_id"]}),
        f"{text!r} never opened a conversation",
    )
    return Conversation.from_doc(conv)


async def agent_says(core: Core, conversation: Conversation, content: OutboundContent) -> None:
    await send(core, conversation, content, Author(kind=AuthorKind.agent, name="Sam"))
    assert await OutboxWorker(core).run_once() == 1


async def test_a_visitor_chats_and_an_agent_reply_appears_live(
    core: Core, shop: dict[str, str], chromium: Any
) -> None:
    page = await open_chat(chromium, shop["page"])
    log = page.get_by_role("log", name="Messages")
    await expect(log).to_contain_text("Hi! Ask us anything about tea.")
    await say(page, "Do you have Dragon Well in stock?")
    conversation = await conversation_with(core, "Do you have Dragon Well in stock?")
    assert conversation.channel_id == shop["channel_id"]
    assert conversation.channel_type == "webchat"
    assert conversation.external_user_id and conversation.external_user_id.startswith("v:")
    await expect(log.locator(".kith-pending")).to_have_count(0)

    await agent_says(core, conversation, OutboundContent(text="Yes, 12 tins left."))
    await expect(log).to_contain_text("Yes, 12 tins left.")
    await expect(log).to_contain_text("Sam")
    [cookie] = await page.context.cookies(f"{shop['kith']}/widget/{shop['channel_id']}/")
    assert cookie["name"] == "kith_visitor" and cookie["httpOnly"] is True
    assert await page.evaluate("document.cookie") == ""  # out of the page script's reach
    await page.reload()  # history survives a reload (the signed cookie and token persist)
    await page.get_by_role("button", name="Open chat").click()
    await expect(log).to_contain_text("Yes, 12 tins left.")
    await expect(log.get_by_text("Do you have Dragon Well in stock?")).to_have_count(1)


async def test_markup_in_a_reply_shows_as_text(
    core: Core, shop: dict[str, str], chromium: Any
) -> None:
    page = await open_chat(chromium, shop["page"])
    await say(page, "hello")
    conversation = await conversation_with(core, "hello")
    attack = '<img src=x onerror="window.__pwned=1">Read <b>this</b>'
    await agent_says(core, conversation, OutboundContent(text=attack))
    log = page.get_by_role("log", name="Messages")
    await expect(log.get_by_text(attack)).to_be_visible()
    assert await log.locator("img, b").count() == 0
    assert await page.evaluate("window.__pwned === undefined")


async def test_quick_replies_send_their_payload(
    core: Core, shop: dict[str, str], chromium: Any
) -> None:
    page = await open_chat(chromium, shop["page"])
    await say(page, "Which tea for mornings?")
    conversation = await conversation_with(core, "Which tea for mornings?")
    buttons = [Button(label="Assam", payload="tea:assam"), Button(label="Oolong", payload="tea:o")]
    await agent_says(core, conversation, OutboundContent(text="Pick one:", buttons=buttons))
    await page.get_by_role("button", name="Assam").click()
    pressed = await eventually(
        lambda: core.store.messages.find_one({"payload": "tea:assam"}), "no payload stored"
    )
    assert pressed["text"] == "Assam"
    assert pressed["conversation_id"] == conversation.id
    await expect(page.get_by_role("button", name="Oolong")).to_be_disabled()


async def test_a_second_visitor_cannot_see_the_first_ones_conversation(
    core: Core, shop: dict[str, str], chromium: Any
) -> None:
    ada = await open_chat(chromium, shop["page"])
    await say(ada, "my order number is 4711")
    first = await conversation_with(core, "my order number is 4711")

    bob = await open_chat(chromium, shop["page"])
    await say(bob, "just browsing")
    second = await conversation_with(core, "just browsing")
    assert second.id != first.id
    await agent_says(core, first, OutboundContent(text="Order 4711 ships today."))
    await expect(ada.get_by_role("log")).to_contain_text("Order 4711 ships today.")
    bob_log = bob.get_by_role("log", name="Messages")
    await expect(bob_log).to_contain_text("just browsing")
    await expect(bob_log).not_to_contain_text("4711")
    seen_by_bob = await bob.evaluate(
        """async (url) => {
            const answer = await fetch(url, {credentials: "include"});
            return (await answer.json()).items.map((m) => m.text);
        }""",
        shop["page"].replace("/demo/widget/", "/widget/") + "/messages",
    )
    assert seen_by_bob == ["just browsing"]


async def test_the_widget_works_embedded_on_another_site(
    core: Core, shop: dict[str, str], other_sites: dict[str, str], chromium: Any
) -> None:
    page = await open_chat(chromium, other_sites["allowed"])
    await say(page, "Hello from the shop's own site")
    conversation = await conversation_with(core, "Hello from the shop's own site")
    await agent_says(core, conversation, OutboundContent(text="Hello back, across sites."))
    await expect(page.get_by_role("log")).to_contain_text("Hello back, across sites.")
    # Over plain HTTP the cookie is SameSite=Lax, which a cross-site page cannot get: all of
    # the above ran on the token the widget keeps in the shop's localStorage.
    assert await page.context.cookies(f"{shop['kith']}/widget/{shop['channel_id']}/") == []

    elsewhere = await open_chat(chromium, other_sites["refused"])
    # The visitor reads no English error of the browser's or Kith's: that is in the console.
    await expect(elsewhere.get_by_role("log")).to_contain_text("Chat is unavailable right now.")
    await expect(elsewhere.get_by_role("log")).not_to_contain_text("Failed to fetch")
    assert await core.store.messages.count_documents({}) == 2  # nothing from the other site
