"""The inbox on a phone (390x844) in a real browser, in English and Chinese: one pane at a time.

QA (pass 4, M1): at phone width the three panes stayed side by side (the conversation pane
1 px wide, the reply box 14 px), a tap showed nothing new and the page scrolled sideways to
674 px. Now the list fills the screen, a conversation opens over it with its reply box and a
Back button (the browser's Back too), the customer panel opens from the conversation, and
nothing scrolls sideways; by mouse and by keyboard alone. Wide windows keep the three panes.
QA (later): a conversation opened on a phone showed its oldest message (drawn while its pane
was hidden, it was scrolled to a bottom of 0 px); now it opens at its newest, as wider.
The Broadcasts page, 557 px wide at 390 px, no longer scrolls sideways either: its tables
scroll inside their own box.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.broadcasts.actions import do_create_broadcast
from kith.broadcasts.models import BroadcastIn
from kith.core.auth import create_user
from kith.core.channel_records import create_channel, list_channels
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from kith.core.workspaces import ensure_default_workspace
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

PHONE = {"width": 390, "height": 844}
WORDS = {
    "en-US": {
        "back": "Back to the conversations",
        "customer": "Customer",
        "back_to_conversation": "Back to the conversation",
        "send": "Send",
        "menu": "Account menu for Alice",
        "log_out": "Log out",
    },
    "zh-CN": {
        "back": "返回会话列表",
        "customer": "客户信息",
        "back_to_conversation": "返回会话",
        "send": "发送",
        "menu": "Alice的账户菜单",
        "log_out": "退出登录",
    },
}
# The page's width against the window's, and each pane's box (0 wide when not shown).
LAYOUT = """() => {
  const box = (selector) => {
    const r = document.querySelector(selector).getBoundingClientRect();
    return { left: r.left, width: r.width };
  };
  return { scroll: document.scrollingElement.scrollWidth, width: window.innerWidth,
           list: box(".list-pane"), conversation: box(".conversation-pane"),
           customer: box(".customer-pane"), reply: box("#reply") };
}"""


async def seed(core: Core, workspace: Workspace) -> None:
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    team = await create_team(core, workspace.id, "Support", [channel.id])
    agent = await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent
    )
    await add_member(core, workspace.id, team.id, agent.id)
    await create_user(
        core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.marketer
    )
    # Ada's conversation is longer than a phone's screen (its newest message last).
    story = tuple(
        ("u-ada", "Ada Lovelace", f"Order question {n}\n" + "more detail 更多细节\n" * 5)
        for n in range(12)
    )
    said = (*story, ("u-ada", "Ada Lovelace", "Where is my order?"), ("u-li", "李雷", "在吗？"))
    for n, (uid, name, text) in enumerate(said):
        user = InboundUser(id=uid, name=name, locale="zh-CN" if n else "en")
        message = InboundMessage.on(channel, channel_message_id=f"m{n}", user=user, text=text)
        await ingest(core, channel, message)
    ids = sorted(await core.store.customers.distinct("_id", {}))
    body = BroadcastIn.model_validate(
        {
            "name": "上海会员周末特惠 · Shanghai members' weekend offer",
            "customer_ids": ids,
            "message": {"text": {"en": "Hello", "zh": "你好"}},
            "channels": ["api"],
        }
    )
    await do_create_broadcast(core, workspace.id, body, Author(kind=AuthorKind.system))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def on_phone(live: Live, email: str, locale: str):
    page = await live.sign_in(email, locale=locale)
    await page.set_viewport_size(PHONE)
    return page


def no_sideways_scroll(layout: dict) -> bool:
    return bool(layout["scroll"] <= layout["width"])


# The message list: how far it can scroll, and how far it is from its newest message.
READING = """() => {
  const l = document.getElementById("messages");
  const room = l.scrollHeight - l.clientHeight;
  return { room, fromNewest: room - l.scrollTop };
}"""


async def ada_says(live: Live, text: str) -> None:
    workspace = await ensure_default_workspace(live.core)
    (channel,) = await list_channels(live.core, workspace.id)
    user = InboundUser(id="u-ada", name="Ada Lovelace")
    await ingest(
        live.core,
        channel,
        InboundMessage.on(channel, channel_message_id=text, user=user, text=text),
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_on_a_phone_one_pane_at_a_time_with_back_and_the_customer_panel(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[locale]
    page = await live.sign_in("alice@kith.test", locale=locale)
    await expect(page.locator("body[data-ready='true']")).to_be_attached()
    # A wide window is as before: three panes side by side, no phone buttons.
    wide = await page.evaluate(LAYOUT)
    assert wide["list"]["width"] > 300 and wide["customer"]["width"] > 300, wide
    assert wide["conversation"]["left"] >= wide["list"]["left"] + wide["list"]["width"] - 1
    await expect(page.get_by_role("button", name=words["back"])).to_be_hidden()

    await page.set_viewport_size(PHONE)
    ada = page.locator("#conversations .conv", has_text="Ada Lovelace")
    await expect(ada).to_be_visible()
    layout = await page.evaluate(LAYOUT)
    assert no_sideways_scroll(layout), layout
    assert layout["list"]["width"] == layout["width"], layout  # the list fills the screen
    assert layout["conversation"]["width"] == 0 and layout["customer"]["width"] == 0, layout

    await ada.click()
    back = page.get_by_role("button", name=words["back"])
    await expect(back).to_be_visible()
    await expect(page.locator("#conv-title")).to_contain_text("Ada Lovelace")
    await expect(page).to_have_url(re.compile(r"/app\?conversation="))
    # QA: it opened at its oldest message (0 of 5588 px), drawn while its pane was hidden.
    messages = page.locator("#messages")
    await expect(messages.get_by_text("Where is my order?")).to_be_in_viewport()
    reading = await page.evaluate(READING)
    assert reading["room"] > 500 and reading["fromNewest"] < 40, reading
    # Scrolled up to read, the reader stays put when a message arrives; at the newest, they
    # see it come.
    await messages.evaluate("(l) => { l.scrollTop = 0; }")
    await ada_says(live, "Hello again 又来了")
    await expect(messages.get_by_text("Hello again 又来了")).to_be_attached()
    assert await messages.evaluate("(l) => l.scrollTop") == 0
    await messages.evaluate("(l) => { l.scrollTop = l.scrollHeight; }")
    await ada_says(live, "Any news? 有消息吗？")
    await expect(messages.get_by_text("Any news? 有消息吗？")).to_be_in_viewport()
    layout = await page.evaluate(LAYOUT)
    assert no_sideways_scroll(layout), layout
    assert layout["conversation"]["width"] == layout["width"], layout
    assert layout["list"]["width"] == 0, layout
    assert layout["reply"]["width"] > 300, layout  # was 14 px
    await page.locator("#reply").fill("It ships today 今天发货")
    await page.get_by_role("button", name=words["send"], exact=True).click()
    await expect(messages.get_by_text("It ships today 今天发货")).to_be_in_viewport()
    await expect(page.locator("#reply")).to_have_value("")

    customer = page.get_by_role("button", name=words["customer"], exact=True)
    await expect(customer).to_have_attribute("aria-expanded", "false")
    await customer.click()
    await expect(page.locator("#customer-name")).to_have_text("Ada Lovelace")
    await expect(page.locator("#customer-name")).to_be_in_viewport()
    await expect(page.locator(".conversation-pane")).to_be_hidden()
    layout = await page.evaluate(LAYOUT)
    assert layout["customer"]["width"] == layout["width"] and no_sideways_scroll(layout), layout
    await page.get_by_role("button", name=words["back_to_conversation"]).click()
    await expect(page.locator("#reply")).to_be_visible()
    await expect(customer).to_be_focused()
    await expect(customer).to_have_attribute("aria-expanded", "false")
    await expect(messages.get_by_text("It ships today 今天发货")).to_be_in_viewport()

    await back.click()
    await expect(ada).to_be_visible()
    await expect(ada).to_be_focused()  # where the agent came from
    await expect(page).to_have_url(live.url + "/app")
    await expect(page.locator(".conversation-pane")).to_be_hidden()
    # The browser's own Forward and Back step through the same two screens.
    await page.go_forward()
    await expect(page.locator("#conv-title")).to_contain_text("Ada Lovelace")
    await expect(page.locator("#reply")).to_be_visible()
    await page.go_back()
    await expect(ada).to_be_visible()
    await expect(page.locator("#reply")).to_be_hidden()

    # The header's user menu still works at this width, inside the window.
    await page.get_by_role("button", name=words["menu"]).click()
    menu = page.locator("#user-menu")
    await expect(menu.get_by_role("button", name=words["log_out"])).to_be_visible()
    box = await menu.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert no_sideways_scroll(await page.evaluate(LAYOUT))


async def test_on_a_phone_by_keyboard_alone(live: Live) -> None:
    """Tab to a conversation, Enter opens it (focus on its title), Tab reaches the reply box
    and Enter sends; the Customer button opens the panel and Escape closes it; Back (Enter)
    returns to the list with focus on the conversation just left."""
    from playwright.async_api import expect

    page = await on_phone(live, "alice@kith.test", "zh-CN")
    await expect(page.locator("body[data-ready='true']")).to_be_attached()
    li = page.locator("#conversations .conv", has_text="李雷")
    await expect(li).to_be_visible()

    async def tab_to(locator, key: str = "Tab", limit: int = 60) -> None:
        for _ in range(limit):
            if await locator.evaluate("(el) => el === document.activeElement"):
                return
            await page.keyboard.press(key)
        raise AssertionError(f"{key} never reached {locator}")

    await tab_to(li)
    await page.keyboard.press("Enter")
    await expect(page.locator("#conv-title")).to_be_focused()
    await expect(page.locator("#conv-title")).to_contain_text("李雷")
    await tab_to(page.locator("#reply"))
    await page.keyboard.type("您好，在的")
    await page.keyboard.press("Enter")
    await expect(page.locator("#messages")).to_contain_text("您好，在的")

    customer = page.get_by_role("button", name="客户信息", exact=True)
    await tab_to(customer, "Shift+Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="返回会话", exact=True)).to_be_focused()
    await expect(page.locator("#customer-name")).to_have_text("李雷")
    await page.keyboard.press("Escape")
    await expect(customer).to_be_focused()
    await expect(page.locator("#reply")).to_be_visible()

    await page.keyboard.press("Shift+Tab")
    await expect(page.get_by_role("button", name="返回会话列表")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(li).to_be_focused()
    await expect(page.locator("#reply")).to_be_hidden()
    assert no_sideways_scroll(await page.evaluate(LAYOUT))


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_broadcasts_page_does_not_scroll_sideways_on_a_phone(
    live: Live, locale: str
) -> None:
    """It was 557 px wide at 390 px: its table now scrolls in its own box (focusable, so
    the keyboard scrolls it too), and the compose form's date fields wrap."""
    from playwright.async_api import expect

    page = await on_phone(live, "mary@kith.test", locale)
    await page.goto(live.url + "/app/broadcasts")
    rows = page.locator("#broadcast-rows tr")
    await expect(rows).to_have_count(1)
    width = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
    scroll, inner = await page.evaluate(width)
    assert scroll <= inner, (scroll, inner)
    region = page.get_by_role("region", name=re.compile("Broadcasts table|群发列表"))
    await expect(region).to_have_attribute("tabindex", "0")
    box = await region.bounding_box()
    assert box is not None and box["x"] + box["width"] <= inner
    # Its stats (another table) open without widening the page.
    stats = "Stats and preview" if locale == "en-US" else "统计与预览"
    await rows.get_by_role("button", name=stats).click()
    await expect(page.locator("#stats")).to_be_visible()
    scroll, inner = await page.evaluate(width)
    assert scroll <= inner, (scroll, inner)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_between_phone_and_desktop_the_list_and_conversation_share_the_window(
    live: Live, locale: str
) -> None:
    """QA (pass 4): from 768 to ~1000 px the three panes left the conversation a strip (128 px
    at 800 px). Now the list and the conversation share the window and the customer panel
    opens over the conversation from its Customer button, and back."""
    from playwright.async_api import expect

    words = WORDS[locale]
    page = await live.sign_in("alice@kith.test", locale=locale)
    await page.set_viewport_size({"width": 900, "height": 800})
    ada = page.locator("#conversations .conv", has_text="Ada Lovelace")
    await ada.click()
    await expect(page.locator("#conv-title")).to_contain_text("Ada Lovelace")
    layout = await page.evaluate(LAYOUT)
    assert no_sideways_scroll(layout), layout
    assert layout["list"]["width"] >= 240 and layout["conversation"]["width"] >= 500, layout
    assert layout["customer"]["width"] == 0, layout
    await expect(page.get_by_role("button", name=words["back"])).to_be_hidden()  # list shows
    customer = page.get_by_role("button", name=words["customer"], exact=True)
    await customer.click()
    await expect(page.locator("#customer-name")).to_have_text("Ada Lovelace")
    layout = await page.evaluate(LAYOUT)
    assert layout["conversation"]["width"] == 0 and layout["customer"]["width"] >= 500, layout
    assert layout["list"]["width"] >= 240, layout  # the list stays
    await page.get_by_role("button", name=words["back_to_conversation"]).click()
    await expect(page.locator("#reply")).to_be_visible()
    await expect(customer).to_be_focused()
