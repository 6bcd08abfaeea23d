"""A locked-out agent is told how long to wait, and an admin lets them back in from
Settings → Users, by keyboard, in English and Chinese (qa8 minor 9), in a real browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.login_throttle import FREE_FAILURES
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import LOGIN_LABELS, Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
AGENT = "Alice <i>Li</i>"  # shown as text, never as markup

WORDS = {
    "en": {
        "locale": "en-US",
        "locked": "Too many failed attempts. Try again in 1 minute.",
        "row_locked": "Sign-in locked until",
        "unlock": "Unlock sign-in",
        "unlocked": f"Sign-in unlocked: {AGENT} can sign in again.",
        "edit": "Edit",
        "colon": ": ",
        "active": "Active",
    },
    "zh": {
        "locale": "zh-CN",
        "locked": "失败次数过多，请 1 分钟后再试。",
        "row_locked": "登录已锁定，至",
        "unlock": "解除登录锁定",
        "unlocked": f"已解除登录锁定：{AGENT} 可以重新登录了。",
        "edit": "编辑",
        "colon": "：",
        "active": "正常",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    await create_user(core, workspace.id, "alice@kith.test", PASSWORD, name=AGENT)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def try_password(page, language: str, password: str) -> None:
    email, secret, _ = LOGIN_LABELS[language]
    await page.get_by_label(email).fill("alice@kith.test")
    await page.get_by_label(secret).fill(password)
    await page.get_by_label(secret).press("Enter")


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_locked_out_agent_is_told_the_wait_and_an_admin_unlocks_them(
    live: Live, language: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    context = await live.browser.new_context(locale=words["locale"])
    alice = await context.new_page()
    await alice.goto(live.url + "/app/login")
    for _ in range(FREE_FAILURES):
        await try_password(alice, language, "not-the-password")
        await expect(alice.get_by_role("alert")).to_be_visible()
    await try_password(alice, language, PASSWORD)  # right, but this address is locked
    await expect(alice.get_by_role("alert")).to_have_text(words["locked"])
    await expect(alice).to_have_url(re.compile(r"/app/login"))

    admin = await live.sign_in("admin@kith.test", locale=words["locale"])
    await admin.goto(live.url + "/app/admin/users")
    row = admin.locator("#users tr", has_text="Alice")
    await expect(row).to_contain_text(words["row_locked"])
    unlock = admin.get_by_role("button", name=f"{words['unlock']}{words['colon']}{AGENT}")
    await unlock.focus()
    await admin.keyboard.press("Enter")
    await expect(admin.get_by_role("status")).to_have_text(words["unlocked"])
    await expect(
        admin.get_by_role("button", name=f"{words['edit']}{words['colon']}{AGENT}")
    ).to_be_focused()
    await expect(unlock).to_have_count(0)
    await expect(row).to_contain_text(words["active"])
    event = await live.core.store.events.find_one({"type": "user.login_unlocked"})
    assert event is not None and event["data"]["locks_lifted"] == 1

    await try_password(alice, language, PASSWORD)
    await expect(alice).to_have_url(re.compile(re.escape(live.url) + r"/app$"))
