"""Edit profile on a customer's Contacts page, by keyboard, in English and Chinese: every
refusal shown at its field at once, an address another customer has names them, customer
text stays text, and a save renames the page and adds "Profile changed · <who>" to the
timeline."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.web.test_contacts_browser import live  # noqa: F401  # the page's seeded customers

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def _open(live: Live, email: str, locale: str, name: str):  # noqa: F811
    customer = await live.core.store.customers.find_one({"name": name})
    page = await live.sign_in(email, locale)
    await page.goto(f"{live.url}/app/contacts/{customer['_id']}")
    await page.locator("body[data-ready=true]").wait_for()
    return page, customer["_id"]


async def test_an_agent_edits_a_profile_by_keyboard(live: Live) -> None:  # noqa: F811
    from playwright.async_api import expect

    page, li = await _open(live, "alice@kith.test", "en-US", "李雷")
    edit = page.get_by_role("button", name="Edit profile")
    await edit.focus()
    await page.keyboard.press("Enter")
    name = page.get_by_label("Name", exact=True)
    await expect(name).to_be_focused()
    await expect(name).to_have_value("李雷")
    await assert_every_control_is_named(page)
    emails, locale = page.get_by_label("Emails"), page.get_by_label("Customer's locale")
    await emails.fill("lilei@example.cn\nnot an email")
    await locale.fill("english please")
    await name.press("Enter")  # Enter in a field sends the form
    await expect(page.locator("#edit-emails-error")).to_have_text(
        "Not an email address: “not an email”."
    )
    await expect(page.locator("#edit-locale-error")).to_contain_text("Not a language tag")
    await expect(emails).to_have_attribute("aria-invalid", "true")
    await expect(locale).to_have_attribute("aria-invalid", "true")

    await emails.fill("lilei@example.cn\nada@example.com")
    await locale.fill("zh-CN")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#edit-emails-error")).to_have_text(
        re.compile(r"^Ada (Lovelace|L\.) already has ada@example\.com: merge")
    )
    await expect(locale).not_to_have_attribute("aria-invalid", "true")

    await name.fill("Li Lei <img src=x onerror=alert(1)>")
    await emails.fill("li@example.org\nlilei@example.cn")
    await page.get_by_label("city").fill("北京")
    await page.get_by_label("New attribute").fill("plan")
    await page.get_by_label("Attribute value").fill("pro")
    await page.get_by_role("button", name="Save").press("Enter")
    heading = page.get_by_role("heading", name="Li Lei <img src=x onerror=alert(1)>")
    await expect(heading).to_be_visible()
    await expect(page.locator("#notice")).to_have_text("Saved.")
    await expect(page.locator("#profile-form")).to_be_hidden()
    await expect(edit).to_be_focused()
    await expect(page.locator("#timeline li").first).to_contain_text("Profile changed · Alice")
    stored = await live.core.store.customers.find_one({"_id": li})
    assert stored["emails"] == ["li@example.org", "lilei@example.cn"]
    assert stored["locale"] == "zh-CN"
    assert stored["attributes"] == {"city": "北京", "plan": "pro"}


async def test_the_chinese_page_words_refusals_and_escape_closes(live: Live) -> None:  # noqa: F811
    from playwright.async_api import expect

    page, li = await _open(live, "mary@kith.test", "zh-CN", "Ada Lovelace")
    edit = page.get_by_role("button", name="编辑资料")
    await edit.click()
    await page.get_by_label("电话").fill("12")
    await page.get_by_label("时区").fill("Mars/Olympus")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#edit-phones-error")).to_have_text("不是所属国家的电话号码：“12”。")
    await expect(page.locator("#edit-timezone-error")).not_to_be_empty()
    await page.keyboard.press("Escape")
    await expect(page.locator("#profile-form")).to_be_hidden()
    await expect(edit).to_be_focused()
    assert (await live.core.store.customers.find_one({"_id": li}))["timezone"] is None
