"""The community page in Chromium, by keyboard, in English and Chinese (qa8): the roster's
name search (debounced, Enter at once, its count said politely), a stay through a Kith invite
link shown by the link's name and owner rather than Telegram's cut-off name, every refusal of
a save at its own control at once (each bad RE2 line, a bad number, a post's field), a
welcome's unknown placeholder refused at its language, and a language emptied in the form
removed while the other stays."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from kith.communities import actions
from kith.communities.demo import CHAT, seed_demo_community
from kith.communities.demo_referrals import seed_demo_referrals
from kith.communities.models import CommunityPatch
from kith.communities.store import communities
from kith.connectors.telegram.routes import process
from kith.core.auth import create_user
from kith.core.channel_records import get_channel, update_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.dead_letters import Payload
from kith.core.models import Author, AuthorKind, Role, Workspace
from kith.core.settings import Settings
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.group_admin import install_admin
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
HOSTILE = "<img src=x onerror=alert(1)>"
TITLE = str(CHAT["title"])
NOW = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
ZH = "欢迎 {name} 加入水壶俱乐部！"


def prepare(core: Core) -> None:
    core.clock = ManualClock(NOW)
    install_admin(core)


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "admin@kith.test", PASSWORD, name="Ada", role=Role.admin)
    community = await seed_demo_community(core, workspace.id)
    channel = await get_channel(core, workspace.id, community.channel_id)
    config = {**channel.config, "api_base": "http://127.0.0.1:9"}
    await update_channel(core, workspace.id, channel.id, config=config)
    hostile = {
        "update_id": 999,
        "message": {
            "message_id": 999,
            "from": {"id": 770000001, "is_bot": False, "first_name": HOSTILE},
            "chat": CHAT,
            "date": int(NOW.timestamp()) - 60,
            "text": "hello",
        },
    }
    await process(core, channel, Payload(body=json.dumps(hostile).encode()))
    await seed_demo_referrals(core, workspace.id, community.id)  # 王芳's link; 林梅 joins by it
    texts = {"welcome": {"texts": {"en": "Welcome, {name}!", "zh": ZH}}}
    manager = Author(kind=AuthorKind.system, name="test")
    await actions.update(
        core, workspace.id, community.id, CommunityPatch.model_validate(texts), manager
    )
    await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, prepare=prepare, reuse_seed=True) as app:
        yield app


async def _page(live: Live, locale: str = "en-US"):  # type: ignore[no-untyped-def]
    doc = await communities(live.core).find_one({"title": TITLE})
    assert doc is not None
    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/communities/{doc['_id']}")
    return page, str(doc["_id"])


async def test_the_roster_is_searched_by_keyboard_and_names_the_kith_link(live: Live) -> None:
    from playwright.async_api import expect

    page, _ = await _page(live)
    await assert_every_control_is_named(page)
    roster = page.locator("#roster")
    lin = roster.get_by_role("row").filter(has=page.get_by_role("link", name="Lin Mei 林梅"))
    await expect(lin).to_contain_text("via Friends of the club (王芳's link)")
    await expect(lin).not_to_contain_text("ref_")
    everyone = await roster.locator("tbody tr").count()
    assert everyone > 2

    find = page.get_by_label("Find in the roster")
    await find.focus()
    await page.keyboard.type("lin mei")  # any case; the search waits for the last key
    result = page.locator("#roster-find-result")
    await expect(result).to_have_attribute("aria-live", "polite")
    await expect(result).to_have_text("1 matching (up to 50 shown).")
    await expect(roster.locator("tbody tr")).to_have_count(1)
    await expect(lin).to_contain_text("via Friends of the club (王芳's link)")
    await expect(page.locator("#roster-pages")).to_be_hidden()

    await find.fill("")
    await page.keyboard.type("<img")  # Enter searches at once; the name is shown as text
    await page.keyboard.press("Enter")
    await expect(roster.locator("tbody tr")).to_have_count(1)
    await expect(roster.get_by_role("link", name=HOSTILE)).to_be_visible()
    assert await page.evaluate("document.querySelectorAll('#roster img').length") == 0
    await expect(find).to_be_focused()

    await find.fill("nobody-at-all")
    await find.press("Enter")
    await expect(result).to_have_text("No member matches “nobody-at-all”.")
    await expect(page.locator("#no-members")).to_be_visible()
    await find.fill("")
    await find.press("Enter")
    await expect(result).to_have_text("Showing the roster again.")
    await expect(roster.locator("tbody tr")).to_have_count(everyone)


async def test_the_roster_search_and_link_in_chinese(live: Live) -> None:
    from playwright.async_api import expect

    page, _ = await _page(live, "zh-CN")
    roster = page.locator("#roster")
    lin = roster.get_by_role("row").filter(has=page.get_by_role("link", name="Lin Mei 林梅"))
    await expect(lin).to_contain_text("通过 Friends of the club（王芳 的邀请链接）")
    find = page.get_by_label("在成员名单中查找")
    await find.focus()
    await page.keyboard.type("林梅")
    await page.keyboard.press("Enter")
    await expect(page.locator("#roster-find-result")).to_have_text(
        "1 位成员匹配（最多显示 50 位）。"
    )
    await expect(roster.locator("tbody tr")).to_have_count(1)
    await expect(lin).to_contain_text("Friends of the club（王芳 的邀请链接）")


async def test_every_refusal_of_the_moderation_save_at_its_control(live: Live) -> None:
    from playwright.async_api import expect

    page, cid = await _page(live)
    form = page.locator("#moderation")
    words = page.get_by_role("group", name="Banned words and patterns")
    patterns = words.get_by_label("Regular expressions (RE2, one a line)")
    await patterns.fill("(?:vx|wx)\\s*\\w+\n[unclosed\n(a|b")
    await form.get_by_label("Mute for (minutes)").fill("-5")
    await form.get_by_label("Ban for (days; empty: for good)").fill("0.5")
    await form.get_by_role("button", name="Save moderation rules").press("Enter")

    await expect(page.locator('[data-error-for="moderation.words.patterns"]')).to_have_text(
        "Banned words and patterns · Regular expressions (RE2, one a line): "
        "line 2 is not a valid RE2 pattern: missing ]; line 3 is not a valid RE2 pattern: missing )"
    )
    mute = page.locator('[data-error-for="moderation.mute_minutes"]')
    await expect(mute).to_contain_text("Mute for (minutes): ")
    await expect(page.locator('[data-error-for="moderation.ban_days"]')).to_contain_text(
        "Ban for (days; empty: for good): "
    )
    for field in ("moderation.mute_minutes", "moderation.ban_days"):
        control = page.locator(f'input[data-field="{field}"]')
        await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(patterns).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_label("Mute for (minutes)")).to_be_focused()  # the first shown
    doc = await communities(live.core).find_one({"_id": cid})
    assert doc is not None and doc["moderation"]["words"]["patterns"] == []  # nothing kept


async def test_a_post_refused_in_two_places_marks_both(live: Live) -> None:
    from playwright.async_api import expect

    page, _ = await _page(live)
    await page.get_by_label("Message (English)").fill("{{ customer.name }} hi")
    when = page.get_by_label("When")
    await when.fill("2020-01-01T10:00")
    await page.get_by_role("button", name="Schedule").press("Enter")
    text = page.locator('[data-error-for="message.text.en"]')
    await expect(text).to_contain_text("Message (English): ")
    await expect(text).to_contain_text("{{ customer… }}")
    await expect(page.locator('[data-error-for="send_at"]')).to_contain_text("When: ")
    await expect(when).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Message (English)")).to_be_focused()


@pytest.mark.parametrize(
    ("locale", "label", "save", "said", "saved"),
    [
        (
            "en-US",
            "Text (English)",
            "Save settings",
            "Welcome · Text (English): {nme}, {{ customer.name }} is not filled in here: "
            "use only {name}",
            "Settings saved.",
        ),
        (
            "zh-CN",
            "文本（英文）",
            "保存设置",
            "欢迎语 · 文本（英文）：这里不会替换 {nme}, {{ customer.name }}：只能使用 {name}",
            "设置已保存。",
        ),
    ],
)
async def test_an_unknown_placeholder_and_a_language_emptied(
    live: Live, locale: str, label: str, save: str, said: str, saved: str
) -> None:
    from playwright.async_api import expect

    page, cid = await _page(live, locale)
    en = page.locator('textarea[data-field="welcome.texts.en"]')
    await expect(en).to_have_accessible_name(label, ignore_case=False)  # its label, not its text
    await en.fill("Hi {nme} {{ customer.name }}")
    await page.get_by_role("button", name=save).press("Enter")
    await expect(page.locator('[data-error-for="welcome.texts.en"]')).to_have_text(said)
    await expect(en).to_be_focused()
    await expect(en).to_have_attribute("aria-invalid", "true")

    await en.fill("")  # emptied: removed; the Chinese welcome stays
    await page.get_by_role("button", name=save).press("Enter")
    await expect(page.get_by_role("status")).to_have_text(saved)
    await expect(en).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator('[data-error-for="welcome.texts.en"]')).to_have_text("")
    doc = await communities(live.core).find_one({"_id": cid})
    assert doc is not None and doc["welcome"]["texts"] == {"zh": ZH}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_an_enabled_welcome_emptied_is_refused_at_its_texts(live: Live, locale: str) -> None:
    """qa11 m3: both texts of an enabled welcome emptied left it with none of the managers'."""
    from playwright.async_api import expect

    t = messages(locale[:2])
    page, cid = await _page(live, locale)
    texts = [page.locator(f'textarea[data-field="welcome.texts.{lang}"]') for lang in ("en", "zh")]
    await page.locator('[data-field="welcome.enabled"]').check()  # turned on as it is emptied
    for text in texts:
        await text.fill("")
    await page.get_by_role("button", name=t["communities_save"]).press("Enter")
    for lang, text in zip(("en", "zh"), texts, strict=True):
        slot = page.locator(f'[data-error-for="welcome.texts.{lang}"]')
        await expect(slot).to_contain_text(t["communities_reason_welcome_without_text"])
        await expect(text).to_have_attribute("aria-invalid", "true")
    await expect(texts[0]).to_be_focused()
    doc = await communities(live.core).find_one({"_id": cid})
    assert doc is not None and doc["welcome"]["texts"] == {"en": "Welcome, {name}!", "zh": ZH}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_nothing_runs_off_a_phone_screen(live: Live, locale: str) -> None:
    """qa11 m6: at 390 px the list was a 544 px table in a card scrolling sideways, and a
    settings fieldset widened its card; now the list is cards and no card scrolls."""
    from playwright.async_api import expect

    t = messages(locale[:2])
    page, cid = await _page(live, locale)
    await page.set_viewport_size({"width": 390, "height": 844})
    overflow = """() => [document.documentElement, ...document.querySelectorAll('.card')]
        .filter((e) => e.scrollWidth > e.clientWidth)
        .map((e) => `${e.id || e.tagName} ${e.scrollWidth}/${e.clientWidth}`)"""
    await page.goto(f"{live.url}/app/communities")
    row = page.locator("table.cards tbody tr").first
    await expect(row.locator("td").first).to_have_attribute("data-label", t["communities_platform"])
    assert await page.evaluate(overflow) == []
    await page.goto(f"{live.url}/app/communities/{cid}")
    await expect(page.locator("#roster tbody tr").first).to_be_visible()
    assert await page.evaluate(overflow) == []
