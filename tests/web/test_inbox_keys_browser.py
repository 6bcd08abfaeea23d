"""The inbox by keyboard, in a real browser, in English and Chinese.

QA (pass 4, minor): the inbox had no skip link and no shortcuts (to reach the reply box an
agent tabbed through every conversation in the list), and the web chat's 💬 icon showed as an
empty box in Debian's Chromium. Now the first Tab reaches "Skip to the reply box", Alt+J /
Alt+K open the next and previous conversation (on a phone too, where Back still returns to
the list), "/" and "r" go to the search and the reply box but type themselves in a field,
Escape leaves the reply box, "?" lists the shortcuts in a dialog that gives focus back, and
every channel icon is a drawing, not a font's glyph.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from tests.support.browser import needs_chromium
from tests.support.cast import inbound
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

WORDS = {
    "en-US": {
        "skip_reply": "Skip to the reply box",
        "skip_list": "Skip to the conversation list",
        "dialog": "Keyboard shortcuts",
        "close": "Close",
        "next": "Open the next conversation in the list",
        "webchat": "Website chat",
        "back": "Back to the conversations",
    },
    "zh-CN": {
        "skip_reply": "跳到回复框",
        "skip_list": "跳到会话列表",
        "dialog": "键盘快捷键",
        "close": "关闭",
        "next": "打开列表中的下一个会话",
        "webchat": "网站聊天",
        "back": "返回会话列表",
    },
}
# Every channel icon in the list: drawn (an <svg> with a path of some length, some pixels
# wide) and holding no character a font would have to draw.
ICONS = """() => [...document.querySelectorAll("#conversations .chan")].map((chan) => {
  const svg = chan.querySelector("svg"), path = chan.querySelector("svg path");
  return { name: chan.getAttribute("aria-label"), text: chan.textContent,
           width: svg ? svg.getBoundingClientRect().width : 0,
           length: path ? path.getTotalLength() : 0 }; })"""


async def seed(core: Core, workspace: Workspace) -> None:
    api, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    widget, _ = await create_channel(core, workspace.id, "webchat", "Widget", {})
    team = await create_team(core, workspace.id, "Support", [api.id, widget.id])
    agent = await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent
    )
    await add_member(core, workspace.id, team.id, agent.id)
    for channel, user, text in (
        (api, "ada", "Where is my order?"),
        (api, "li", "在吗？"),
        (widget, "grace", "Hello from the widget"),
    ):
        await ingest(core, channel, inbound(channel, user, text))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_inbox_by_keyboard_skip_links_shortcuts_and_their_list(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[locale]
    page = await live.sign_in("alice@kith.test", locale=locale)
    await expect(page.locator("body[data-ready='true']")).to_be_attached()
    buttons = page.locator("#conversations .conv")
    await expect(buttons).to_have_count(3)
    ids = await buttons.evaluate_all("(all) => all.map((b) => b.dataset.id)")
    title = page.locator("#conv-title")
    names = [n.strip() for n in await page.locator("#conversations .conv .name").all_inner_texts()]

    def conv(id_: str):  # a conversation's button in the list, as it is drawn now
        return page.locator(f"#conversations .conv[data-id='{id_}']")

    async def is_open(n: int) -> None:
        await expect(title).to_contain_text(names[n])
        await expect(buttons.nth(n)).to_have_attribute("aria-current", "true")

    # The first Tab reaches the skip link, shown while focused; with nothing open it leads
    # to the list.
    await page.keyboard.press("Tab")
    skip_reply = page.get_by_role("link", name=words["skip_reply"])
    await expect(skip_reply).to_be_focused()
    assert (await skip_reply.bounding_box())["width"] > 20
    await page.keyboard.press("Enter")
    await expect(conv(ids[0])).to_be_focused()

    # Alt+J / Alt+K open the next and previous conversation of the list.
    await page.evaluate("() => document.activeElement.blur()")
    await page.keyboard.press("Alt+j")
    await is_open(0)
    await page.keyboard.press("Alt+J")
    await is_open(1)
    await page.keyboard.press("Alt+j")
    await is_open(2)
    await page.keyboard.press("Alt+j")  # the list's end: stays
    await page.keyboard.press("Alt+k")
    await is_open(1)
    await expect(conv(ids[1])).to_be_focused()

    # "r" goes to the reply box without typing an r; there, r is an r and Alt+J does nothing.
    await page.keyboard.press("r")
    reply = page.locator("#reply")
    await expect(reply).to_be_focused()
    await expect(reply).to_have_value("")
    await page.keyboard.type("r")
    await expect(reply).to_have_value("r")
    await page.keyboard.press("Alt+j")
    await expect(reply).to_be_focused()
    await is_open(1)
    # Escape leaves the reply box for the conversation's title, where shortcuts work.
    await page.keyboard.press("Escape")
    await expect(title).to_be_focused()
    await page.keyboard.press("/")
    search = page.locator("#search-q")
    await expect(search).to_be_focused()
    await page.keyboard.type("/r")
    await expect(search).to_have_value("/r")
    await search.fill("")

    # The skip links: to the reply box of the open conversation, to its place in the list.
    await page.get_by_role("link", name=words["skip_reply"]).focus()
    await page.keyboard.press("Enter")
    await expect(reply).to_be_focused()
    await page.get_by_role("link", name=words["skip_list"]).focus()
    await page.keyboard.press("Enter")
    await expect(conv(ids[1])).to_be_focused()

    # "?": the shortcuts in a dialog; Escape closes it and focus is back on the list.
    await page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name=words["dialog"])
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_text(words["next"])).to_be_visible()
    await expect(dialog.get_by_role("button", name=words["close"])).to_be_focused()
    await page.keyboard.press("Alt+j")  # nothing behind the dialog moves
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(conv(ids[1])).to_be_focused()
    await is_open(1)
    # … and its Close button does the same.
    await page.keyboard.press("Shift+?")
    await expect(dialog).to_be_visible()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(conv(ids[1])).to_be_focused()
    await assert_every_control_is_named(page)

    # Every channel icon is drawn: the web chat's too, named in the page's language.
    icons = await page.evaluate(ICONS)
    assert len(icons) == 3, icons
    for icon in icons:
        assert icon["text"] == "" and icon["width"] >= 10 and icon["length"] > 10, icon
    assert words["webchat"] in {icon["name"] for icon in icons}, icons


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_on_a_phone_alt_j_opens_a_conversation_and_back_returns_to_the_list(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[locale]
    page = await live.sign_in("alice@kith.test", locale=locale)
    await expect(page.locator("body[data-ready='true']")).to_be_attached()
    await page.set_viewport_size({"width": 390, "height": 844})
    panes = page.locator("main.panes")
    await expect(page.locator("#conversations .conv")).to_have_count(3)
    first = (await page.locator("#conversations .conv .name").first.inner_text()).strip()

    await page.keyboard.press("Alt+j")
    await expect(panes).to_have_attribute("data-pane", "conversation")
    await expect(page.locator("#conv-title")).to_contain_text(first)
    await expect(page.locator("#conv-title")).to_be_focused()
    await expect(page).to_have_url(re.compile(r"/app\?conversation="))
    # The skip link to the list leads to the way back to it while a conversation covers it.
    await page.get_by_role("link", name=words["skip_list"]).focus()
    await page.keyboard.press("Enter")
    back = page.get_by_role("button", name=words["back"])
    await expect(back).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(panes).to_have_attribute("data-pane", "list")
    await expect(page).to_have_url(re.compile(r"/app$"))
