"""The moderation rules form and the moderation log in Chromium, by keyboard: a manager adds
a banned word and a pattern that mutes, sees a bad pattern refused at its control (the field
named, nothing of that save kept), lifts a mute from the log (a warning offers no Lift:
nothing to undo) and sees who lifted it; the same in Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.communities.audit import audit
from kith.communities.demo import CHAT, seed_demo_community
from kith.communities.store import communities
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.communities.audit_support import HOSTILE, seed_audit
from tests.support.browser import needs_chromium
from tests.support.group_admin import install_admin
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TITLE = str(CHAT["title"])
PATTERN = r"(?:vx|wx)\s*[:：]?\s*[a-z0-9_]{5,}"


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "admin@kith.test", PASSWORD, name="Ada", role=Role.admin)
    install_admin(core)  # the platform takes the unmute
    community = await seed_demo_community(core, workspace.id)
    await seed_audit(core, community)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_a_manager_edits_the_rules_and_lifts_a_mute(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    doc = await communities(live.core).find_one({"title": TITLE})
    assert doc is not None
    page = await live.sign_in("admin@kith.test")
    await page.goto(f"{live.url}/app/communities/{doc['_id']}")
    await expect(page.get_by_role("heading", name="Moderation rules")).to_be_visible()
    await assert_every_control_is_named(page)

    words = page.get_by_role("group", name="Banned words and patterns")
    await words.get_by_label("On", exact=True).focus()
    await page.keyboard.press("Space")
    await words.get_by_label("Banned words (one a line)").fill("casino\n加微信")
    await words.get_by_label("Regular expressions (RE2, one a line)").fill(PATTERN)
    await words.get_by_label("Mute (for the minutes set above)").focus()
    await page.keyboard.press("Space")
    await page.get_by_label("Mute for (minutes)").fill("15")
    save = page.get_by_role("button", name="Save moderation rules")
    await save.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Moderation rules saved.")
    saved = (await communities(live.core).find_one({"_id": doc["_id"]}))["moderation"]
    assert saved["words"]["enabled"] is True
    assert saved["words"]["words"] == ["casino", "加微信"]
    assert saved["words"]["patterns"] == [PATTERN]
    assert saved["words"]["actions"] == ["delete", "warn", "mute"]
    assert saved["mute_minutes"] == 15

    flood = page.get_by_role("group", name="Flood")
    await flood.get_by_label("Messages").fill("9")
    patterns = words.get_by_label("Regular expressions (RE2, one a line)")
    await patterns.fill(PATTERN + "\n(unclosed")
    await save.press("Enter")
    error = page.locator('[data-error-for="moderation.words.patterns"]')
    await expect(error).to_have_text(  # named as the page labels it, not by its field path
        "Banned words and patterns · Regular expressions (RE2, one a line): "
        "line 2 is not a valid RE2 pattern: missing )"
    )
    await expect(patterns).to_be_focused()
    await expect(patterns).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("status")).to_have_text("")  # not the first save's "saved"
    kept = (await communities(live.core).find_one({"_id": doc["_id"]}))["moderation"]
    assert kept == saved  # nothing of the refused save, the flood's change included

    await patterns.fill(PATTERN)
    await save.press("Enter")
    await expect(error).to_be_empty()
    await expect(page.get_by_role("status")).to_have_text("Moderation rules saved.")
    assert (await communities(live.core).find_one({"_id": doc["_id"]}))["moderation"]["flood"][
        "messages"
    ] == 9

    log = page.get_by_role("table", name="Moderation log")
    await expect(log.get_by_text(f"FREE MONEY {HOSTILE}").first).to_be_visible()  # as text
    warned = log.get_by_role("row").filter(has_text="I was <b>only</b> sharing a recipe")
    await expect(warned).to_contain_text("Appealed")
    await expect(warned.get_by_role("button")).to_have_count(0)  # a warning: nothing to undo
    muted = log.get_by_role("row").filter(has_text="muted").filter(has_text="Crypto Carl").first
    await muted.get_by_role("button", name="Unmute Crypto Carl").press("Enter")
    await expect(muted).to_contain_text("Lifted by Ada")
    await expect(muted.get_by_role("button")).to_have_count(0)
    row = await audit(live.core).find_one({"action": "mute", "outcome": "taken"})
    assert row is not None and row["lifted_by"]["name"] == "Ada"
    await keep_screenshot(page, "communities-moderation-en.png", tmp_path)

    await page.reload()
    warned = page.get_by_role("table", name="Moderation log").get_by_role("row")
    await expect(warned.filter(has_text="a moderator").first).to_contain_text("lifted")

    chinese = await live.sign_in("admin@kith.test", locale="zh-CN")
    await chinese.goto(f"{live.url}/app/communities/{doc['_id']}")
    await expect(chinese.get_by_role("heading", name="管理规则")).to_be_visible()
    await expect(chinese.get_by_role("table", name="管理记录")).to_contain_text("已由 Ada 撤销")
    await expect(chinese.get_by_role("group", name="违禁词和正则表达式")).to_be_visible()
    await expect(chinese.get_by_role("table", name="管理记录").get_by_role("button")).to_have_count(
        0
    )
    await assert_every_control_is_named(chinese)
    await keep_screenshot(chinese, "communities-moderation-zh.png", tmp_path)
