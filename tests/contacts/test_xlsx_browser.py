"""The Contacts page in Chromium, by keyboard, in English and Chinese: the export offers CSV
or Excel, the Excel link carries the page's filter and downloads a workbook of the chosen
customers; the import takes an .xlsx (sent as Excel, read as its first sheet)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from kith.core.jobs import JobWorker
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.web.test_contacts_browser import live

__all__ = ["live"]
pytestmark = [needs_chromium, pytest.mark.timeout(120)]
WORDS = {
    "en-US": {
        "csv": "Export CSV",
        "excel": "Export Excel",
        "tags": "Tags",
        "form": "Import CSV or Excel",
        "file": "CSV file or Excel workbook (.xlsx)",
        "import": "Import",
        "created": "Created1",
        "not_xlsx": "This file is not an Excel workbook (.xlsx)",
    },
    "zh-CN": {
        "csv": "导出 CSV",
        "excel": "导出 Excel",
        "tags": "标签",
        "form": "导入 CSV 或 Excel",
        "file": "CSV 文件或 Excel 工作簿（.xlsx）",
        "import": "导入",
        "created": "新建1",
        "not_xlsx": "这个文件不是 Excel 工作簿（.xlsx）",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_page_exports_and_imports_excel(live: Live, locale: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await page.get_by_label(w["tags"], exact=True).fill("vip")
    await page.get_by_label(w["tags"], exact=True).press("Enter")
    excel = page.get_by_role("link", name=w["excel"], exact=True)
    await expect(excel).to_have_attribute("href", re.compile(r"/export\.xlsx\?filter="))
    await page.get_by_role("link", name=w["csv"], exact=True).focus()
    await page.keyboard.press("Tab")  # CSV, then Excel: side by side
    await expect(excel).to_be_focused()
    async with page.expect_download() as info:
        await page.keyboard.press("Enter")
    download = await info.value
    assert download.suggested_filename.endswith(".xlsx")
    exported = tmp_path / download.suggested_filename
    await download.save_as(exported)
    sheet = load_workbook(exported, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    names = {row[1] for row in rows[1:]}
    assert "李雷" in names and "Carol <b>Chen</b>" not in names
    assert all("vip" in str(row[4]) for row in rows[1:])

    book = Workbook()
    sheet_in = book.active
    assert sheet_in is not None
    sheet_in.append(["姓名", "手机", "邮箱"])
    sheet_in.append([f"Excel {locale}", 13800138001, f"{locale}@example.com"])
    sample = tmp_path / "联系人.xlsx"
    book.save(sample)
    form = page.get_by_role("form", name=w["form"])
    await form.get_by_label(w["file"]).set_input_files(str(sample))
    await form.get_by_role("button", name=w["import"], exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#import-job")).to_be_visible()
    await JobWorker(live.core).run_once()  # or the server's own worker, whichever is first
    await expect(page.locator("#import-counts")).to_contain_text(w["created"])
    made = await live.core.store.customers.find_one({"name": f"Excel {locale}"})
    assert made is not None and made["phones"] == ["+8613800138001"]
    await assert_every_control_is_named(page)

    fake = tmp_path / "fake.xlsx"
    fake.write_text("name\nAda\n", encoding="utf-8")
    await form.get_by_label(w["file"]).set_input_files(str(fake))
    await expect(form.locator(".form-error")).to_contain_text(w["not_xlsx"])
