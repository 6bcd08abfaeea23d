"""The widget when the connection drops, after a reload, and in the visitor's language.

Debian's Chromium driven by Playwright on the sample shop page. Offline is Playwright's
`context.set_offline`; a lost answer and a page closed before sending are routes that drop the
widget's POST. "Exactly once" is read from Kith's store, not from the page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from starlette.responses import HTMLResponse

from kith.core.channel_records import create_channel, update_channel
from kith.core.context import Core
from kith.web.app import create_app
from tests.connectors.webchat.served import serve
from tests.support.browser import EXPECT_TIMEOUT_MS, chromium, needs_chromium

pytestmark = needs_chromium
DEADLINE = EXPECT_TIMEOUT_MS / 1000
GREETING = "Hi! Ask us anything about tea."
RECONNECTING = "Reconnecting… Unsent messages will go out when you are back online."


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
async def shop(core: Core, workspace_id: str) -> AsyncIterator[dict[str, str]]:
    """Kith on a loopback port with a web chat channel; yields the demo page's URL."""
    channel, _ = await create_channel(
        core, workspace_id, "webchat", "Northwind Tea", {"greeting": GREETING}
    )
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager, serve(manager.app) as base:
        yield {
            "page": f"{base}/demo/widget/{channel.id}",
            "kith": base,
            "channel_id": channel.id,
            "workspace_id": workspace_id,
        }


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def stored(core: Core, text: str) -> int:
    return await core.store.messages.count_documents({"text": text})


async def delivered_once(core: Core, page: Any, text: str) -> None:
    """Kith stored `text` once, and the page shows it once, no longer waiting."""
    from playwright.async_api import expect

    await eventually(lambda: stored(core, text), f"{text!r} was never stored")
    log = page.get_by_role("log")
    await expect(log.locator(".kith-in").filter(has_text=text)).to_have_count(1)
    await expect(log.locator(".kith-pending")).to_have_count(0)
    assert await stored(core, text) == 1


async def open_chat(page: Any, url: str, launcher: str = "Open chat") -> Any:
    from playwright.async_api import expect

    await page.goto(url)
    await page.get_by_role("button", name=launcher).click()
    dialog = page.get_by_role("dialog", name="Northwind Tea")
    await expect(dialog).to_be_visible()
    return dialog


async def say(page: Any, text: str, box: str = "Message") -> None:
    await page.get_by_role("textbox", name=box).fill(text)
    await page.get_by_role("textbox", name=box).press("Enter")


def unsent_texts(page: Any) -> Awaitable[list[str]]:
    return page.evaluate(  # type: ignore[no-any-return]
        """() => Object.keys(localStorage).filter((k) => k.includes(".unsent."))
                 .flatMap((k) => JSON.parse(localStorage.getItem(k)).map((m) => m.text))"""
    )


def is_post(route: Any) -> bool:
    request = route.request
    return bool(request.method == "POST" and request.url.endswith("/messages"))


async def test_a_message_typed_offline_is_sent_once_when_the_connection_returns(
    core: Core, shop: dict[str, str], browser: Any
) -> None:
    from playwright.async_api import expect

    context = await browser.new_context()
    page = await context.new_page()
    await open_chat(page, shop["page"])
    await say(page, "hello")
    await delivered_once(core, page, "hello")
    status = page.get_by_role("status")
    await expect(status).to_be_hidden()

    await context.set_offline(True)
    await say(page, "sent while offline")
    await expect(status).to_have_text(RECONNECTING)
    assert await unsent_texts(page) == ["sent while offline"]
    await say(page, "and a second one")
    assert await unsent_texts(page) == ["sent while offline", "and a second one"]
    assert await stored(core, "sent while offline") == 0

    await context.set_offline(False)
    await delivered_once(core, page, "sent while offline")
    await delivered_once(core, page, "and a second one")
    await expect(status).to_be_hidden()
    assert await unsent_texts(page) == []
    first = await core.store.messages.find_one({"text": "sent while offline"})
    second = await core.store.messages.find_one({"text": "and a second one"})
    assert (first["created_at"], first["_id"]) <= (second["created_at"], second["_id"])
    await context.close()


async def test_a_resend_after_a_lost_answer_is_stored_once(
    core: Core, shop: dict[str, str], browser: Any
) -> None:
    context = await browser.new_context()
    posts: list[str] = []

    async def lose_the_first_answer(route: Any) -> None:
        if route.request.url.endswith("/events"):  # no live echo: only a resend can tell
            await route.abort("connectionreset")
            return
        if not is_post(route):
            await route.continue_()
            return
        posts.append(route.request.post_data_json["client_id"])
        if len(posts) == 1:
            await route.fetch()  # Kith stores it; the answer never reaches the page
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await context.route(lambda url: "/widget/" in url, lose_the_first_answer)
    page = await context.new_page()
    await open_chat(page, shop["page"])
    await say(page, "is my order shipped?")
    await delivered_once(core, page, "is my order shipped?")
    assert len(posts) == 2 and posts[0] == posts[1]  # resent with the same client id
    await context.close()


async def test_a_message_unsent_when_the_page_closes_goes_out_on_the_next_load(
    core: Core, shop: dict[str, str], browser: Any
) -> None:
    context = await browser.new_context()

    async def drop_posts(route: Any) -> None:
        if is_post(route):
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await context.route(lambda url: "/widget/" in url, drop_posts)
    page = await context.new_page()
    await open_chat(page, shop["page"])
    text = '<b onmouseover="window.__pwned=1">kept</b> across a reload'
    await say(page, text)
    assert await unsent_texts(page) == [text]
    await page.close()
    assert await stored(core, text) == 0

    await context.unroute_all()
    page = await context.new_page()
    await open_chat(page, shop["page"])
    await delivered_once(core, page, text)
    log = page.get_by_role("log")
    assert await log.locator("b").count() == 0  # still text, never markup
    assert await page.evaluate("window.__pwned === undefined")
    assert await unsent_texts(page) == []
    await page.reload()
    await page.get_by_role("button", name="Open chat").click()
    await delivered_once(core, page, text)
    await context.close()


async def test_a_chinese_browser_gets_chinese_words_and_escape_closes_the_chat(
    core: Core, shop: dict[str, str], browser: Any
) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    dialog = await open_chat(page, shop["page"], "打开聊天")
    box = page.get_by_role("textbox", name="消息")
    await expect(box).to_be_focused()
    await expect(box).to_have_attribute("placeholder", "输入消息…")
    await expect(page.get_by_role("button", name="发送")).to_be_visible()
    await expect(page.get_by_role("button", name="关闭聊天").first).to_be_visible()
    await expect(page.get_by_role("log", name="消息记录")).to_contain_text(GREETING)
    assert await page.locator("[data-kith-chat]").get_attribute("lang") == "zh-CN"

    async def refuse(route: Any) -> None:
        if is_post(route):
            await route.fulfill(status=422, json={"error": {"code": "invalid", "message": "no"}})
        else:
            await route.continue_()

    await context.route(lambda url: "/widget/" in url, refuse)
    await say(page, "你好，我想问一下", "消息")
    retry = page.get_by_role("button", name="未发送，点击重试")
    await expect(retry).to_be_visible()
    await context.unroute_all()
    await retry.click()  # by hand, with the same client id
    await delivered_once(core, page, "你好，我想问一下")

    await box.press("Escape")
    await expect(dialog).to_be_hidden()
    launcher = page.get_by_role("button", name="打开聊天")
    await expect(launcher).to_be_focused()
    await launcher.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(box).to_be_focused()
    await context.close()


EMBED = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
</head><body><script src="{script}" data-locale="en" async></script></body></html>"""


async def test_the_embeds_data_locale_wins_over_the_browsers_languages(
    core: Core, shop: dict[str, str], browser: Any
) -> None:
    page_html = HTMLResponse(EMBED.format(script=f"{shop['kith']}/widget/{shop['channel_id']}.js"))
    async with serve(page_html, "localhost") as site:
        await update_channel(
            core, shop["workspace_id"], shop["channel_id"], config={"allowed_origins": [site]}
        )
        context = await browser.new_context(locale="zh-CN")
        page = await context.new_page()
        await open_chat(page, site, "Open chat")
        await say(page, "hello in English")
        await delivered_once(core, page, "hello in English")
        await context.close()


async def test_the_greeting_is_in_the_widgets_language_where_one_is_written(
    core: Core, shop: dict[str, str], browser: Any
) -> None:
    """A Chinese greeting beside the English one: each visitor reads the one in the widget's
    language, not both (the demo's greeting was one bilingual line)."""
    from playwright.async_api import expect

    await update_channel(
        core, shop["workspace_id"], shop["channel_id"], config={"greeting_zh": "您好！请随便问。"}
    )
    for locale, launcher, shown, not_shown in (
        ("zh-CN", "打开聊天", "您好！请随便问。", GREETING),
        ("en-US", "Open chat", GREETING, "您好！请随便问。"),
    ):
        context = await browser.new_context(locale=locale)
        page = await context.new_page()
        await open_chat(page, shop["page"], launcher)
        greeting = page.get_by_role("log").locator(".kith-greeting")
        await expect(greeting).to_have_text(shown)
        await expect(greeting).not_to_contain_text(not_shown)
        await context.close()
