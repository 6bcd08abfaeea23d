"""The settings forms' refusals in a real browser, in Chinese and English: each is said under
its field in the page's language (never naming the API's field, such as `email`), the control
marked, focused and described by it, the form's own line left empty; and a customer page for
a customer not there says so in the page's language, with the way back to Contacts. The live
server is `test_admin_browser`'s (admin, an admin; mary, a marketer)."""

from __future__ import annotations

import pytest

from tests.support.browser import needs_chromium
from tests.support.pages import Live
from tests.web.conftest import PASSWORD
from tests.web.test_admin_browser import live as live  # the fixture, re-exported

pytestmark = [needs_chromium, pytest.mark.timeout(120)]

WORDS = {
    "en": {
        "locale": "en-US",
        "new_team": "New team",
        "create_team": "Create team",
        "name": "Name",
        "team_taken": "Another team already has this name.",
        "blank": "Cannot be empty (spaces alone do not count).",
        "new_token": "New API token",
        "create_token": "Create token",
        "account": "My account",
        "change": "Change password",
        "current": "Current password",
        "new": "New password",
        "repeat": "Repeat the new password",
        "wrong": "The current password is wrong.",
        "same": "The new password is the current one: choose another.",
        "missing": "No such contact, or they talk to another team.",
        "back": "Back to contacts",
    },
    "zh": {
        "locale": "zh-CN",
        "new_team": "新建团队",
        "create_team": "创建团队",
        "name": "名称",
        "team_taken": "已有同名团队。",
        "blank": "不能为空（只填空格也算空）。",
        "new_token": "新建 API 令牌",
        "create_token": "创建令牌",
        "account": "我的账户",
        "change": "修改密码",
        "current": "当前密码",
        "new": "新密码",
        "repeat": "再次输入新密码",
        "wrong": "当前密码不正确。",
        "same": "新密码与当前密码相同：请另选一个。",
        "missing": "没有这个联系人，或其属于其他团队。",
        "back": "返回联系人",
    },
}


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_refusal_is_said_at_its_field(live: Live, language: str) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    page = await live.sign_in("admin@kith.test", locale=words["locale"])
    await page.goto(live.url + "/app/admin/teams")
    form = page.get_by_role("form", name=words["new_team"])
    name = form.get_by_label(words["name"])
    for typed, said in (("Sales", None), ("sales", words["team_taken"]), ("   ", words["blank"])):
        await name.fill(typed)
        await name.press("Enter")
        if said is None:  # the first Sales is made; the form is empty again
            await expect(name).to_have_value("")
            continue
        await expect(name).to_have_accessible_description(said)
        await expect(form.locator(".field-error", has_text=said)).to_be_visible()
        await expect(form.get_by_role("alert")).to_have_text("")
        await expect(name).to_have_attribute("aria-invalid", "true")
        await expect(name).to_be_focused()

    await page.goto(live.url + "/app/admin/tokens")
    form = page.get_by_role("form", name=words["new_token"])
    name = form.get_by_label(words["name"], exact=True)
    await name.fill("   ")
    await form.get_by_role("button", name=words["create_token"]).click()
    await expect(name).to_have_accessible_description(words["blank"])
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_be_focused()


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_wrong_or_unchanged_password_is_worded(live: Live, language: str) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    page = await live.sign_in("mary@kith.test", locale=words["locale"])
    await page.goto(live.url + "/app/admin/account")
    form = page.get_by_role("form", name=words["change"])
    current = form.get_by_label(words["current"])
    new = form.get_by_label(words["new"], exact=True)
    await current.focus()
    await page.keyboard.type("not my password")
    await page.keyboard.press("Tab")
    await page.keyboard.type("a brand new password")
    await page.keyboard.press("Tab")
    await page.keyboard.type("a brand new password")
    await page.keyboard.press("Enter")
    await expect(current).to_have_accessible_description(words["wrong"])
    await expect(form.get_by_role("alert")).to_have_text("")
    await expect(current).to_have_attribute("aria-invalid", "true")
    await expect(current).to_be_focused()

    await current.fill(PASSWORD)
    await new.fill(PASSWORD)
    await form.get_by_label(words["repeat"]).fill(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(new).to_have_accessible_description(words["same"])
    await expect(new).to_have_attribute("aria-invalid", "true")
    await expect(new).to_be_focused()
    await expect(current).not_to_have_attribute("aria-invalid", "true")
    await expect(current).to_have_accessible_description("")  # the last refusal went


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_customer_not_there_is_said_with_the_way_back(live: Live, language: str) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    page = await live.sign_in("admin@kith.test", locale=words["locale"])
    await page.goto(live.url + "/app/contacts/zzz")
    await expect(page.get_by_role("heading", name=words["missing"])).to_be_visible()
    await expect(page.locator("main")).not_to_contain_text("no such customer")
    await expect(page).to_have_title(f"{words['missing']} · Kith")
    back = page.get_by_role("link", name=words["back"])
    await back.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(live.url + "/app/contacts")
