"""Settings → Teams deletes a team after naming what it holds, refuses a taken name at its
field; a user whose password an admin chose replaces it first (qa8 minors 10 and 5). By
keyboard, in English and Chinese, in a real browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.teams import create_team
from tests.support.browser import needs_chromium
from tests.support.pages import LOGIN_LABELS, Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
TEAM = "Sales <b>EU</b>"  # shown as text, never as markup
NEW = "a brand new secret"

WORDS = {
    "en": {
        "locale": "en-US",
        "delete": "Delete: ",
        "asks": f"Delete the team {TEAM}? Its 1 member(s) keep their accounts",
        "deleted": f"Team {TEAM} deleted.",
        "in_use": "Support can't be deleted: it is named by bots: Night bot. Change them first.",
        "create": "Create team",
        "taken": "Another team already has this name.",
        "must": "Must change password at next sign-in",
        "now": "An admin chose your password.",
        "current": "Current password",
        "new": "New password",
        "repeat": "Repeat",
    },
    "zh": {
        "locale": "zh-CN",
        "delete": "删除：",
        "asks": f"删除团队 {TEAM}？其 1 名成员保留账号",
        "deleted": f"团队 {TEAM} 已删除。",
        "in_use": "无法删除 Support：机器人：Night bot 仍在使用它。请先修改它们。",
        "create": "创建团队",
        "taken": "已有同名团队。",
        "must": "下次登录时须修改密码",
        "now": "管理员为您设置了密码。",
        "current": "当前密码",
        "new": "新密码",
        "repeat": "再次",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    alice = await create_user(core, workspace.id, "alice@kith.test", PASSWORD, name="Alice")
    await create_team(core, workspace.id, TEAM, member_ids=[alice.id])
    support = await create_team(core, workspace.id, "Support")
    await core.store.collection("bots").insert_one(
        {"_id": "b1", "workspace_id": workspace.id, "name": "Night bot", "team_id": support.id}
    )
    # As an admin's reset leaves it (kith.core.users.do_reset_password).
    await core.store.users.update_one({"_id": alice.id}, {"$set": {"must_change_password": True}})


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_admin_deletes_a_team_and_cannot_repeat_a_name(live: Live, language: str) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    admin = await live.sign_in("admin@kith.test", locale=words["locale"])
    await admin.goto(live.url + "/app/admin/teams")
    name = admin.locator("#new-team input[name=name]")
    await name.focus()
    await admin.keyboard.type("support")
    await admin.keyboard.press("Enter")
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_be_focused()
    await expect(name).to_have_accessible_description(words["taken"])

    in_use = admin.get_by_role("button", name=f"{words['delete']}Support")
    await in_use.focus()
    await admin.keyboard.press("Enter")
    await expect(admin.get_by_role("status")).to_have_text(words["in_use"])
    await expect(in_use).to_be_focused()

    delete = admin.get_by_role("button", name=f"{words['delete']}{TEAM}")
    await delete.focus()
    await admin.keyboard.press("Enter")
    dialog = admin.locator("#confirm")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(words["asks"])
    await admin.keyboard.press("Escape")  # asked, not done
    await expect(dialog).to_be_hidden()
    await expect(delete).to_have_count(1)
    await delete.focus()
    await admin.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await dialog.locator("button[value=ok]").focus()
    await admin.keyboard.press("Enter")
    await expect(admin.get_by_role("status")).to_have_text(words["deleted"])
    await expect(delete).to_have_count(0)
    await expect(in_use).to_be_focused()  # the next row's Delete
    assert await live.core.store.events.find_one({"type": "team.deleted"}) is not None
    assert await live.core.store.users.find_one({"email": "alice@kith.test"}) is not None


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_user_given_a_password_chooses_their_own_first(live: Live, language: str) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    admin = await live.sign_in("admin@kith.test", locale=words["locale"])
    await admin.goto(live.url + "/app/admin/users")
    row = admin.locator("#users tr", has_text="Alice")
    await expect(row).to_contain_text(words["must"])

    context = await live.browser.new_context(locale=words["locale"])
    alice = await context.new_page()
    await alice.goto(live.url + "/app/login")
    email, secret, _ = LOGIN_LABELS[language]
    await alice.get_by_label(email).fill("alice@kith.test")
    await alice.get_by_label(secret).fill(PASSWORD)
    await alice.get_by_label(secret).press("Enter")
    await expect(alice).to_have_url(re.compile(r"/app/admin/account$"))
    await expect(alice.locator("#must-change-password")).to_contain_text(words["now"])
    await expect(alice.get_by_label(words["current"])).to_be_focused()
    await alice.goto(live.url + "/app")  # anywhere else: sent back
    await expect(alice).to_have_url(re.compile(r"/app/admin/account$"))
    await alice.keyboard.type(PASSWORD)
    await alice.keyboard.press("Tab")
    await alice.keyboard.type(NEW)
    await alice.keyboard.press("Tab")
    await alice.keyboard.type(NEW)
    await alice.keyboard.press("Enter")
    await expect(alice).to_have_url(re.compile(re.escape(live.url) + r"/app$"))
    await admin.reload()
    await expect(admin.locator("#users tr", has_text="Alice")).not_to_contain_text(words["must"])
