"""The Contacts page in Chromium, by keyboard, in English and Chinese: an imported row with a
bad email and a bad phone lists both (row, column, why), and the Consent filter says Any and
stays disabled while "Consent on" is Any, where it would have no effect.

Regressions (QA7 minor 8 and polish): the import listed the first bad cell of a row only; the
Consent filter showed "Granted" with no Any, looking applied though it was ignored."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kith.core.jobs import JobWorker
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.web.test_contacts_browser import live

__all__ = ["live"]
pytestmark = [needs_chromium, pytest.mark.timeout(120)]
FILTERED = re.compile(r"filter=")  # an export link that carries a segment filter
CSV = (
    "name,email,phone,tags,attributes.city,consent.email\n"
    "UI Carol,carol@example.com,+86 139 0001 7919,vip,上海,yes\n"
    "UI Bad,carol-at-example,abc,,,\n"
    "UI Dan,dan@example.com,13900099999,vip,上海,maybe\n"
)
WORDS = {
    "en-US": {
        "form": "Import CSV",
        "file": "CSV file",
        "import": "Import",
        "errors": "Rows with errors",
        "email": "Not an email address (write it as name@example.com)",
        "phone": "Not a valid phone number: write it with its country code",
        "consent": "Consent is granted, revoked or unknown (or yes/no, 是/否)",
        "hint": "Every problem of a row is listed, one line each",
        "failed": "Rows with errors2",
        "consent_on": "Consent on",
        "state": "Consent",
        "any": "Any",
        "state_hint": "Choose a channel under “Consent on” first",
        "email_channel": "Email",
        "revoked": "Revoked",
    },
    "zh-CN": {
        "form": "导入 CSV",
        "file": "CSV 文件",
        "import": "导入",
        "errors": "出错的行",
        "email": "不是邮箱地址（应写作 name@example.com）",
        "phone": "不是有效的电话号码：请带国家代码书写",
        "consent": "许可只能是 granted、revoked 或 unknown（或 yes/no、是/否）",
        "hint": "每行的所有问题都逐条列出",
        "failed": "出错的行2",
        "consent_on": "同意渠道",
        "state": "营销同意",
        "any": "任意",
        "state_hint": "请先在“同意渠道”中选择渠道",
        "email_channel": "邮件",
        "revoked": "已撤回",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_every_bad_cell_of_a_row_is_listed_on_the_page(
    live: Live, locale: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    sample = tmp_path / "contacts.csv"
    sample.write_text(CSV, encoding="utf-8")
    page = await live.sign_in("mary@kith.test", locale=locale)
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    form = page.get_by_role("form", name=w["form"])
    await form.get_by_label(w["file"]).set_input_files(str(sample))
    await form.get_by_role("button", name=w["import"], exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#import-job")).to_be_visible()
    await JobWorker(live.core).run_once()  # or the server's own worker, whichever is first
    errors = page.get_by_role("table", name=w["errors"])
    rows = errors.get_by_role("row")
    await expect(rows).to_have_count(4)  # the header, two cells of row 3, one of row 4
    await expect(rows.nth(1)).to_contain_text("3email" + w["email"])
    await expect(rows.nth(2)).to_contain_text("3phone" + w["phone"])
    await expect(rows.nth(3)).to_contain_text("4consent.email" + w["consent"])
    await expect(errors).to_have_accessible_description(re.compile(re.escape(w["hint"])))
    await expect(page.locator("#import-counts")).to_contain_text(w["failed"])  # rows, not cells
    await assert_every_control_is_named(page)
    assert await live.core.store.customers.count_documents({"name": "UI Bad"}) == 0


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_consent_filter_is_any_and_disabled_until_a_channel_is_chosen(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    filters = page.locator("#contact-filters")
    # Its label wraps it: the name is "Consent on" and then the chosen option.
    channel = filters.get_by_role("combobox", name=re.compile("^" + re.escape(w["consent_on"])))
    state = filters.get_by_label(w["state"], exact=True)
    await expect(state).to_be_disabled()
    await expect(state.locator("option:checked")).to_have_text(w["any"])
    await expect(state).to_have_accessible_description(w["state_hint"])
    await expect(page.get_by_text(w["state_hint"])).to_be_visible()
    await assert_every_control_is_named(page)

    await channel.focus()
    await page.keyboard.press("Tab")  # the disabled Consent is skipped
    await expect(state).not_to_be_focused()
    await channel.select_option(label=w["email_channel"])
    await expect(state).to_be_enabled()
    await expect(state).to_have_value("")  # still Any: choosing a channel filters nothing yet
    await expect(page.get_by_text(w["state_hint"])).to_be_hidden()
    await channel.focus()
    await page.keyboard.press("Tab")
    await expect(state).to_be_focused()
    search = filters.get_by_role("searchbox")
    await search.press("Enter")  # applied: the channel alone adds no filter
    await expect(page.locator("#export")).not_to_have_attribute("href", FILTERED)

    await state.select_option(label=w["revoked"])
    await search.press("Enter")
    await expect(page.locator("#export")).to_have_attribute("href", FILTERED)
    export = await page.locator("#export").get_attribute("href")
    sent = json.loads(parse_qs(urlsplit(export or "").query)["filter"][0])
    assert sent == {"all": [{"field": "consent.email", "op": "eq", "value": "revoked"}]}

    await channel.select_option("")  # back to Any: Consent follows, and no filter is sent
    await expect(state).to_be_disabled()
    await expect(state).to_have_value("")
    await search.press("Enter")
    await expect(page.locator("#export")).not_to_have_attribute("href", FILTERED)
