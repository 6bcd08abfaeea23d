"""The Broadcasts page's community audience in Chromium, by keyboard: a marketer switches the
audience to communities, is told next to the picker when none is picked, filters and picks
two groups, saves the draft and sees it listed with its communities and each one's post."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.broadcasts.demo import CHAPTER, seed_demo_chapter
from kith.communities.demo import CHAT, seed_demo_community
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
CLUB, SHANGHAI = str(CHAT["title"]), str(CHAPTER["title"])


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.marketer
    )
    club = await seed_demo_community(core, workspace.id)
    await seed_demo_chapter(core, workspace.id, club)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, reuse_seed=True) as app:
        yield app


async def test_a_marketer_sends_a_draft_to_two_communities(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.goto(live.url + "/app/broadcasts")
    form = page.get_by_role("form", name="Compose a broadcast")
    picker = form.get_by_role("group", name="Communities", exact=True)
    await expect(picker).to_be_hidden()
    await form.get_by_label("Name").fill("Meet-up")
    await form.get_by_role("radio", name="Customers: a segment or a list").focus()
    await page.keyboard.press("ArrowDown")  # radios move by arrow keys
    await expect(form.get_by_role("radio", name="Communities: post into groups")).to_be_checked()
    await expect(picker).to_be_visible()
    await expect(form.get_by_role("group", name="Channels, in order of preference")).to_be_hidden()
    await expect(picker.get_by_role("checkbox")).to_have_count(2)
    await expect(picker).to_contain_text("Telegram")
    await expect(picker.get_by_text(re.compile(r"Telegram · 8 members"))).to_be_visible()
    await assert_every_control_is_named(page)
    await form.get_by_label("Text in English").fill("Meet-up on Saturday!")
    await form.get_by_label("Text in Chinese").fill("周六见面会！")

    await form.get_by_role("button", name="Save draft").focus()
    await page.keyboard.press("Enter")  # nothing picked: the API's refusal, by the picker
    await expect(picker.get_by_role("alert")).to_have_text("Pick at least one community.")
    await expect(picker.get_by_role("checkbox").first).to_be_focused()

    await picker.get_by_label("Filter communities").fill("上海")
    await expect(picker.get_by_role("checkbox")).to_have_count(1)
    await page.keyboard.press("Tab")
    await expect(picker.get_by_role("checkbox", name=re.compile(SHANGHAI))).to_be_focused()
    await page.keyboard.press("Space")
    await picker.get_by_label("Filter communities").fill("")
    await picker.get_by_role("checkbox", name=re.compile("Kettle Owners Club")).focus()
    await page.keyboard.press("Space")
    await expect(picker).to_contain_text("2 picked")
    await form.get_by_role("button", name="Save draft").focus()
    await page.keyboard.press("Enter")

    table = page.get_by_role("table", name="All broadcasts")
    row = table.get_by_role("row", name=re.compile("Meet-up"))
    await expect(row).to_contain_text("Draft")
    await expect(row).to_contain_text(CLUB)
    await expect(row).to_contain_text(SHANGHAI)
    await expect(form.get_by_role("radio", name="Customers: a segment or a list")).to_be_checked()

    await row.get_by_role("button", name="Stats and preview").click()
    figures = page.locator("#stats-figures")  # groups, not people; no clicks (posts untracked)
    await expect(figures.locator("dt").first).to_have_text("Groups targeted")
    await expect(figures).not_to_contain_text("Clicked")
    posts = page.get_by_role("table", name="Posts per community")
    await expect(posts.get_by_role("row")).to_have_count(3)
    await expect(posts.get_by_role("row", name=re.compile("Kettle Owners Club"))).to_contain_text(
        "Pending"
    )
    await expect(posts.get_by_role("row", name=re.compile("上海分会"))).to_contain_text("Telegram")
    await expect(page.get_by_text(re.compile(r"Sent 0 .* pending 2"))).to_be_visible()
    await keep_screenshot(page, "broadcasts-communities-en.png", tmp_path)


async def test_the_community_picker_in_chinese(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/broadcasts")
    form = page.get_by_role("form", name="撰写群发")
    await form.get_by_role("radio", name="社群：发到群里").check()
    picker = form.get_by_role("group", name="社群", exact=True)
    await expect(picker.get_by_label("筛选社群")).to_be_visible()
    await expect(picker.get_by_text(re.compile(r"Telegram · 8 位成员"))).to_be_visible()
    await expect(picker).to_contain_text("已选 0 个")
    await assert_every_control_is_named(page)
    await keep_screenshot(page, "broadcasts-communities-zh.png", tmp_path)


async def test_a_post_naming_the_customer_is_refused_in_chinese(live: Live) -> None:
    """Regression (QA marketer): `{{ customer.name }}` in a community post's Chinese text was
    refused in the API's English, after the raw field ("message.text.zh: a community post has
    no customer: …"). The page words it by its reason, after the text box's label."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/broadcasts")
    form = page.get_by_role("form", name="撰写群发")
    await form.get_by_label("名称").fill("见面会")
    await form.get_by_role("radio", name="社群：发到群里").check()
    picker = form.get_by_role("group", name="社群", exact=True)
    await picker.get_by_role("checkbox", name=re.compile("Kettle Owners Club")).check()
    await form.get_by_label("中文内容").fill("{{ customer.name }}，周六见！")
    await form.get_by_role("button", name="保存草稿").click()
    await expect(page.locator("#compose-error")).to_have_text(
        "中文内容：群消息不能引用客户（群里没有单个客户）：请删除 {{ customer… }}。"
    )
    await expect(form.get_by_label("中文内容")).to_be_focused()
    assert await live.core.store.collection("broadcasts").count_documents({"name": "见面会"}) == 0
