"""Accounts in a real browser, by keyboard: an admin creates and revokes API tokens and
resets a user's password; a user changes their own, which signs out their other sessions.
The live server and sign-in are `test_admin_browser`'s."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.support.written_dates import day_time
from tests.web.test_admin_browser import live as live  # the fixture, re-exported

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def test_an_admin_creates_and_revokes_an_api_token_by_keyboard(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.get_by_role("link", name="Settings").click()
    await (
        page.get_by_role("navigation", name="Settings sections")
        .get_by_role("link", name="API tokens")
        .click()
    )
    await expect(page.get_by_text("No API tokens yet.")).to_be_visible()
    await assert_every_control_is_named(page)

    form = page.get_by_role("form", name="New API token")
    await form.get_by_label("Name").focus()
    await page.keyboard.type("Reporting")
    await page.keyboard.press("Tab")
    await expect(form.get_by_label("Read only (GET requests only)")).to_be_focused()
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")
    await page.keyboard.type("30")
    await page.keyboard.press("Enter")

    shown = page.get_by_label("API token", exact=True)
    await expect(page.get_by_role("heading", name="Token created: Reporting")).to_be_visible()
    await expect(shown).to_be_focused()
    token = await shown.input_value()
    assert token.startswith("kith_")
    row = page.get_by_role("table", name="API tokens").get_by_role(
        "row", name=re.compile("Reporting")
    )
    await expect(row).to_contain_text("Read only")
    await expect(row).to_contain_text("Never")
    # Created and expires (in 30 days) as every page writes them: not "Dec 5, 2026, 3:23 AM".
    await expect(row.locator("time")).to_have_text([day_time("en")] * 2)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live.url) as http:
        assert (await http.get("/api/v1/customers", headers=auth)).status_code == 200
        write = await http.post("/api/v1/tokens", json={"name": "x"}, headers=auth)
        assert write.status_code == 403

        await page.keyboard.press("Tab")
        await expect(page.get_by_role("button", name="Done")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(shown).to_be_hidden()
        assert await shown.input_value() == ""  # the token left the page

        await row.get_by_role("button", name="Revoke: Reporting").focus()
        await page.keyboard.press("Enter")
        confirm = page.get_by_role("dialog")
        await expect(confirm).to_contain_text("Revoke this API token?")
        await confirm.get_by_role("button", name="Confirm").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_text("No API tokens yet.")).to_be_visible()
        # Its row gone, focus is on the list's heading, not the page's start.
        await expect(page.get_by_role("heading", name="API tokens")).to_be_focused()
        assert (await http.get("/api/v1/customers", headers=auth)).status_code == 401


async def test_an_admin_resets_a_password_then_the_user_changes_it(live: Live) -> None:
    from playwright.async_api import expect

    elsewhere = await live.sign_in("mary@kith.test")  # Mary's other browser
    admin = await live.sign_in("admin@kith.test")
    await admin.goto(live.url + "/app/admin/users")
    await admin.get_by_role("button", name="Reset password: Mary").focus()
    await admin.keyboard.press("Enter")
    dialog = admin.get_by_role("dialog", name="Reset password: Mary")
    await expect(dialog.get_by_label("New password")).to_be_focused()
    await admin.keyboard.type("short")
    await admin.keyboard.press("Enter")  # the browser holds it back: under 8 characters
    field = dialog.get_by_label("New password")
    assert await field.evaluate("(el) => el.validity.tooShort") is True
    await expect(dialog).to_be_visible()
    await field.fill("")
    await admin.keyboard.type("given-by-admin")
    await admin.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(admin.get_by_role("status")).to_have_text(
        "Password reset. The user's sessions were signed out."
    )
    # The list drawn anew keeps the keyboard's place (QA: focus fell to the page's start).
    await expect(admin.get_by_role("button", name="Reset password: Mary")).to_be_focused()
    await elsewhere.reload()
    await expect(elsewhere).to_have_url(live.url + "/app/login")

    page = await live.sign_in("mary@kith.test", password="given-by-admin")
    other = await live.sign_in("mary@kith.test", password="given-by-admin")
    # The admin chose her password: she lands on My account to choose her own.
    await expect(page).to_have_url(live.url + "/app/admin/account")
    await expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    await assert_every_control_is_named(page)
    form = page.get_by_role("form", name="Change password")
    await form.get_by_label("Current password").focus()
    await page.keyboard.type("given-by-admin")
    await page.keyboard.press("Tab")
    await page.keyboard.type("mine-and-only-mine")
    await page.keyboard.press("Tab")
    await page.keyboard.type("mine-and-only-mie")
    await page.keyboard.press("Enter")
    repeat = form.get_by_label("Repeat the new password")
    await expect(repeat).to_have_accessible_description("The two new passwords differ.")
    await repeat.fill("mine-and-only-mine")
    await page.keyboard.press("Enter")
    # The admin's password replaced, Mary goes on to her landing page, still signed in.
    await expect(page).to_have_url(live.url + "/app/contacts")
    await other.reload()
    await expect(other).to_have_url(live.url + "/app/login")


async def test_the_chinese_account_pages(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/admin/tokens")
    await expect(page.get_by_role("heading", name="API 令牌", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="新建 API 令牌")
    await form.get_by_label("名称").fill("报表")
    await form.get_by_label("只读（仅允许 GET 请求）").check()
    await form.get_by_role("button", name="创建令牌").click()
    await expect(page.get_by_role("heading", name="令牌已创建：报表")).to_be_visible()
    row = page.get_by_role("table", name="API 令牌").get_by_role("row", name=re.compile("报表"))
    await expect(row).to_contain_text("只读")
    await expect(row.locator("time")).to_have_text([day_time("zh")])  # created; never expires
    await expect(row.get_by_role("button", name="吊销：报表")).to_be_visible()
    await page.get_by_role("link", name="我的账户").click()
    form = page.get_by_role("form", name="修改密码")
    await form.get_by_label("当前密码").fill("whatever-it-is")
    await form.get_by_label("新密码", exact=True).fill("one-new-password")
    await form.get_by_label("再次输入新密码").fill("another-password")
    await form.get_by_role("button", name="修改密码").click()
    differ = "两次输入的新密码不一致。"
    await expect(form.get_by_label("再次输入新密码")).to_have_accessible_description(differ)
    await page.get_by_role("link", name="用户").click()
    await expect(page.get_by_role("button", name="重置密码：Mary")).to_be_visible()


async def test_an_admin_gives_an_api_channel_a_new_token_by_keyboard(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/admin/channels")
    icon = page.locator("#channels tr", has_text="Website").locator(".chan svg")
    await expect(icon).to_have_count(1)  # drawn: an emoji was a blank box without its font
    assert (await icon.bounding_box() or {}).get("width", 0) > 0
    await page.get_by_role("button", name="New token: Website").focus()
    await page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("Issue a new token?")
    await confirm.get_by_role("button", name="Confirm").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="New channel token: Website")).to_be_visible()
    shown = page.get_by_role("textbox", name="Channel token")
    await expect(shown).to_be_focused()
    token = await shown.input_value()
    channel = await live.core.store.channels.find_one({"name": "Website"})
    async with httpx.AsyncClient(base_url=live.url) as http:
        said = await http.post(
            f"/webhooks/api/{channel['_id']}",
            json={"message_id": "kb-1", "user": {"id": "u-1"}, "text": "hello"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert said.status_code == 200, said.text
