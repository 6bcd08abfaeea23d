"""The community page's referrals in Chromium, by keyboard, in English and Chinese: the
leaderboard (who brought whom, the counts), the invite links (listed, one made for a member
within Telegram's limits, copied), customer names shown as text; refusals worded in the
page's language at the field as the page labels it (a link's limit, a past expiry, an RE2
pattern, the welcome's language); a post named by Kith's clock, not the browser's."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kith.communities.demo import CHAT, seed_demo_community
from kith.communities.demo_referrals import seed_demo_referrals
from kith.communities.store import communities
from kith.connectors.telegram.routes import process
from kith.core.auth import create_user
from kith.core.channel_records import get_channel, update_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.dead_letters import Payload
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.group_admin import RecordingAdmin, install_admin
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
HOSTILE = "<img src=x onerror=alert(1)>"
TITLE = str(CHAT["title"])
KITH_NOW = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)  # Kith's clock: not the browser's
NOWHERE = "http://127.0.0.1:9"  # the bot's Bot API: refused at once (no deep link asked)
ADMINS: list[RecordingAdmin] = []


async def seed(core: Core, workspace: Workspace) -> None:
    core.clock = ManualClock(KITH_NOW)
    await create_user(core, workspace.id, "admin@kith.test", PASSWORD, name="Ada", role=Role.admin)
    ADMINS[:] = [install_admin(core)]  # the group's invite links, recorded
    community = await seed_demo_community(core, workspace.id)
    channel = await get_channel(core, workspace.id, community.channel_id)
    await update_channel(
        core, workspace.id, channel.id, config={**channel.config, "api_base": NOWHERE}
    )
    hostile = {
        "update_id": 999,
        "message": {
            "message_id": 999,
            "from": {"id": 770000001, "is_bot": False, "first_name": HOSTILE},
            "chat": CHAT,
            "date": int(KITH_NOW.timestamp()) - 60,
            "text": "hello",
        },
    }
    await process(core, channel, Payload(body=json.dumps(hostile).encode()))
    await seed_demo_referrals(core, workspace.id, community.id)  # 王芳's link; 林梅 joins by it
    await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def _community_page(live: Live, locale: str = "en-US"):  # type: ignore[no-untyped-def]
    doc = await communities(live.core).find_one({"title": TITLE})
    assert doc is not None
    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await page.goto(f"{live.url}/app/communities/{doc['_id']}")
    # Kith's clock has answered the page (it is 25 Dec there, whatever the browser's date).
    # Not `wait_for_function`: once its first try fails, it polls with eval, which the page's
    # CSP refuses (a CI run under load failed so).
    from playwright.async_api import expect

    await expect(page.locator("html")).to_have_attribute("data-clock", "kith")
    now = await page.evaluate("window.KithClock.now()")
    assert abs(now - KITH_NOW.timestamp() * 1000) < 600000
    return page


async def test_a_manager_reads_the_board_makes_and_copies_an_invite_link(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await _community_page(live)
    await assert_every_control_is_named(page)
    board = page.get_by_role("table", name="Who brought whom")
    wang = board.get_by_role("row").filter(has=page.get_by_role("link", name="王芳"))
    await expect(wang.locator('[data-count="credited"]')).to_have_text("1")
    await expect(wang.get_by_role("link", name="Lin Mei 林梅")).to_be_visible()
    links = page.get_by_role("table", name="Invite links")
    await expect(links.get_by_role("row").filter(has_text="Friends of the club")).to_contain_text(
        "王芳"
    )

    form = page.get_by_role("form", name="New invite link")
    await form.get_by_label("Member", exact=True).select_option(label=HOSTILE)
    await form.get_by_label("Name", exact=True).fill("Carl's friends and family, Saturday")
    limit = form.get_by_label(re.compile("^Members who may join through it"))
    await limit.fill("100000")  # Telegram allows 99,999 at most
    await limit.press("Enter")
    await expect(limit).to_be_focused()
    await expect(limit).to_have_attribute("aria-invalid", "true")
    error = page.locator("#invite-error-member_limit")
    await expect(error).to_contain_text("Members who may join through it")
    await expect(error).not_to_contain_text("member_limit")
    assert ADMINS[0].links and len(ADMINS[0].links) == 1  # only the demo's: nothing asked

    await limit.fill("50")
    await limit.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(f"Invite link made for {HOSTILE}.")
    made = links.get_by_role("row").filter(has=page.get_by_role("link", name=HOSTILE))
    await expect(made).to_contain_text("up to 50 members")
    copy = made.get_by_role("button", name=f"Copy the Group invite link of {HOSTILE}")
    await expect(copy).to_be_focused()
    asked = ADMINS[0].links[-1]
    assert asked["limit"] == 50 and len(asked["name"]) <= 32  # Telegram's limits
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Link copied.")
    assert await page.evaluate("navigator.clipboard.readText()") == "https://t.me/+link2"
    assert await page.evaluate("document.querySelectorAll('img').length") == 0  # names as text

    await form.get_by_label("Name", exact=True).fill("Carl's friends and family, Saturday")
    await form.get_by_role("button", name="Make the link").press("Enter")
    await expect(page.get_by_role("status")).to_have_text(
        f"{HOSTILE} already has a link of that name: here it is."
    )
    assert len(ADMINS[0].links) == 2  # the same link: Telegram not asked again
    await expect(
        links.get_by_role("row").filter(has=page.get_by_role("link", name=HOSTILE))
    ).to_have_count(1)
    await keep_screenshot(page, "communities-referrals-en.png", tmp_path)

    # A post is named by Kith's clock (25 Dec), written as the page writes dates.
    await page.get_by_label("Message (English)").fill("Meet-up on Saturday!")
    await page.get_by_role("button", name="Schedule the post").press("Enter")
    posts = page.get_by_role("table", name="Posts to this community")
    await expect(posts).to_contain_text(f"{TITLE} · 25 Dec 2026")
    post = await live.core.store.collection("broadcasts").find_one({})
    assert post is not None and re.fullmatch(
        rf"{re.escape(TITLE)} · 25 Dec 2026, \d\d:\d\d", post["name"]
    )


async def test_the_chinese_page_words_refusals_at_the_fields_it_labels(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await _community_page(live, locale="zh-CN")
    await assert_every_control_is_named(page)
    await expect(page.get_by_role("heading", name="推荐与邀请链接")).to_be_visible()
    board = page.get_by_role("table", name="谁邀请了谁")
    await expect(board.get_by_role("row").filter(has_text="王芳")).to_contain_text("Lin Mei 林梅")

    form = page.get_by_role("form", name="新建邀请链接")
    await form.get_by_label("成员", exact=True).select_option(label="Lin Mei 林梅")
    expire = form.get_by_label(re.compile("^失效时间"))
    await expire.fill("2026-12-01T10:00")  # past, by Kith's clock
    await expire.press("Enter")
    await expect(expire).to_be_focused()
    await expect(page.locator("#invite-error-expire_at")).to_have_text(
        "失效时间（留空：永不失效）：失效时间须晚于现在"
    )
    assert len(ADMINS[0].links) == 1

    words = page.get_by_role("group", name="违禁词和正则表达式")
    patterns = words.get_by_label("正则表达式（RE2，每行一个）")
    await patterns.fill("ok\n(a+")
    await page.get_by_role("button", name="保存管理规则").press("Enter")
    refused = page.locator('[data-error-for="moderation.words.patterns"]')
    await expect(refused).to_have_text(
        "违禁词和正则表达式 · 正则表达式（RE2，每行一个）：第 2 行不是有效的 RE2 正则：缺少 )"
    )
    await expect(patterns).to_be_focused()

    language = page.get_by_role("group", name="欢迎语").get_by_label("语言（en、zh …）")
    await language.fill("English")
    await page.get_by_role("button", name="保存设置").press("Enter")
    await expect(page.locator('[data-error-for="welcome.language"]')).to_have_text(
        "欢迎语 · 语言（en、zh …）：格式不正确。"
    )
    await expect(language).to_be_focused()
    await keep_screenshot(page, "communities-referrals-zh.png", tmp_path)


async def test_the_member_picker_finds_by_name_as_the_manager_types(live: Live) -> None:
    from playwright.async_api import expect

    page = await _community_page(live, locale="zh-CN")
    form = page.get_by_role("form", name="新建邀请链接")
    member = form.get_by_label("成员", exact=True)
    latest = await member.locator("option").all_text_contents()
    assert "Lin Mei 林梅" in latest and HOSTILE in latest
    find = form.get_by_label("查找成员")
    await find.focus()
    await page.keyboard.type("lin MEI")
    await page.keyboard.press("Enter")  # searches at once; it makes no link
    await expect(member.locator("option")).to_have_text(["Lin Mei 林梅"])
    found = form.locator("#invite-find-result")
    await expect(found).to_have_text("1 位成员匹配（最多显示 50 位）。")
    await page.keyboard.press("Tab")
    await expect(member).to_be_focused()
    assert len(ADMINS[0].links) == 1  # only the demo's
    await find.fill("<img")
    await expect(member.locator("option")).to_have_text([HOSTILE])  # a name, as text
    await find.fill("no one by this name")
    await expect(found).to_have_text("没有成员匹配「no one by this name」。")
    await expect(member.locator("option")).to_have_count(0)
    await find.fill("")
    await expect(member.locator("option")).to_have_text(latest)
