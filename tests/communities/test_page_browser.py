"""The Communities pages in Chromium, on the demo group: the list, a community's charts and
roster (customer text shown as text), its settings saved and a post scheduled by keyboard;
the pages in Chinese; an agent reads but does not change."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.communities.demo import CHAT, seed_demo_community
from kith.communities.store import communities
from kith.connectors.telegram.routes import process
from kith.core.auth import create_user
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.dead_letters import Payload
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.teams import create_team
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.support.written_dates import day_time
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
HOSTILE = "<img src=x onerror=alert(1)>"
TITLE = str(CHAT["title"])


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    alice = await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent
    )
    community = await seed_demo_community(core, workspace.id)
    await create_team(core, workspace.id, "Groups", [community.channel_id], [alice.id])
    channel = await get_channel(core, workspace.id, community.channel_id)
    hostile = {
        "update_id": 999,
        "message": {
            "message_id": 999,
            "from": {"id": 770000001, "is_bot": False, "first_name": HOSTILE},
            "chat": CHAT,
            "date": 1767225602,
            "text": "hello <b>all</b>",
        },
    }
    await process(core, channel, Payload(body=json.dumps(hostile).encode()))
    await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, reuse_seed=True) as app:
        yield app


async def test_a_manager_reads_the_charts_and_roster_saves_settings_and_posts(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    nav = page.get_by_role("navigation", name="Sections")
    await nav.get_by_role("link", name="Communities").click()
    await expect(
        page.get_by_role("heading", name="Groups and channels the bot is in")
    ).to_be_visible()
    await assert_every_control_is_named(page)
    row = page.get_by_role("row", name=re.compile(re.escape(TITLE)))
    await expect(row).to_contain_text("telegram · supergroup")
    await row.get_by_role("link", name=TITLE).focus()
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    # A community's h1 only repeats the nav's current link: for screen readers, 1px wide.
    section = await page.get_by_role("heading", level=1, name="Communities").bounding_box()
    assert section is not None and section["width"] <= 1
    await assert_every_control_is_named(page)
    for name in ("Members over time", "Joins and leaves per day", "Activity per day"):
        await expect(page.get_by_role("img", name=re.compile(name))).to_be_visible()
    assert await page.locator("#chart-moves rect[data-series=joins]").count() >= 15
    roster = page.get_by_role("table", name="Roster")
    await expect(roster.get_by_role("link", name="王芳")).to_have_attribute(
        "href", re.compile(r"^/app/contacts/")
    )
    await expect(roster.get_by_role("link", name=HOSTILE)).to_be_visible()  # text, not markup
    await expect(roster.get_by_role("link", name="Emma Wilson")).to_be_visible()

    await page.get_by_label("Status").select_option("left")
    await page.get_by_role("button", name="Show").press("Enter")
    left = page.get_by_role("table", name="Roster")
    await expect(left).to_contain_text("left")
    await expect(left.get_by_role("link", name=HOSTILE)).to_have_count(0)

    welcome = page.get_by_role("group", name="Welcome")
    await welcome.get_by_label("On", exact=True).focus()
    await page.keyboard.press("Space")
    await welcome.get_by_label("Text (English)").fill("Welcome, {name}!")
    await welcome.get_by_label("Text (Chinese)").fill("欢迎 {name}！")
    await page.get_by_role("button", name="Save settings").press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Settings saved.")
    doc = await communities(live.core).find_one({"title": TITLE})
    assert doc is not None
    assert doc["welcome"]["enabled"] is True
    assert doc["welcome"]["texts"] == {"en": "Welcome, {name}!", "zh": "欢迎 {name}！"}

    await page.get_by_label("Message (English)").fill("Meet-up on Saturday!")
    await page.get_by_role("button", name="Schedule the post").press("Enter")
    posts = page.get_by_role("table", name="Posts to this community")
    await expect(posts).to_contain_text(TITLE)
    await keep_screenshot(page, "communities-en.png", tmp_path)


async def test_the_chinese_pages_and_an_agent_only_reads(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/communities")
    await expect(page.get_by_role("heading", name="机器人所在的群组和频道")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    await page.get_by_role("link", name=TITLE).click()
    await expect(page.get_by_role("img", name=re.compile("成员数变化"))).to_be_visible()
    await expect(page.get_by_role("heading", name="成员名单")).to_be_visible()
    await expect(page.get_by_role("button", name="保存设置")).to_be_visible()
    await assert_every_control_is_named(page)
    # Its server-made moments are written as every page writes them (KithDom.dateTime), in
    # the page's language; not "2026-12-05 07:32" in UTC.
    await expect(page.locator("dd time")).to_have_text(day_time("zh"))
    await page.get_by_role("button", name="安排发帖").press("Enter")  # both boxes empty
    await expect(page.locator("#post-error")).to_have_text("请至少用一种语言填写消息。")
    await expect(page.get_by_label("消息（英文）", exact=True)).to_be_focused()
    assert await live.core.store.collection("broadcasts").count_documents({}) == 0
    await keep_screenshot(page, "communities-zh.png", tmp_path)

    agent = await live.sign_in("alice@kith.test")
    await (
        agent.get_by_role("navigation", name="Sections")
        .get_by_role("link", name="Communities")
        .click()
    )
    await agent.get_by_role("link", name=TITLE).click()
    await expect(agent.get_by_role("table", name="Roster")).to_be_visible()
    await expect(agent.get_by_role("button", name="Save settings")).to_have_count(0)
    await expect(agent.get_by_role("button", name="Schedule the post")).to_have_count(0)
    missing = await agent.goto(live.url + "/app/communities/nope")
    assert missing is not None and missing.status == 404
