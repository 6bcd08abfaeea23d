"""Regression: a file over the import's limit was refused in the server's English ("body over
1048576 bytes") on the Chinese Contacts page too. It is refused by its reason, `too_large`,
with the limit worded as a size in the page's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live
from tests.web.test_contacts_browser import live

__all__ = ["live"]
pytestmark = [needs_chromium, pytest.mark.timeout(120)]
LIMIT = 1024 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"import_max_bytes": LIMIT})


async def test_a_file_over_the_limit_is_refused_in_the_page_language(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    big = tmp_path / "everyone.csv"
    row = b"Ada,ada@example.com\n"
    big.write_bytes(b"name,email\n" + row * (LIMIT // len(row) + 1))
    assert big.stat().st_size > LIMIT
    for locale, form_name, file_label, button, words in (
        (
            "zh-CN",
            "导入 CSV",
            "CSV 文件",
            "导入",
            "文件超过 1 MB，这是导入的上限：请拆分成较小的文件后逐个导入。",
        ),
        (
            "en-US",
            "Import CSV",
            "CSV file",
            "Import",
            "The file is over 1 MB, the largest an import takes: split it into smaller files "
            "and import each.",
        ),
    ):
        page = await live.sign_in("mary@kith.test", locale=locale)
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        form = page.get_by_role("form", name=form_name)
        await form.get_by_label(file_label).set_input_files(str(big))
        await form.get_by_role("button", name=button, exact=True).click()
        await expect(form.locator(".form-error")).to_have_text(words)
        await expect(page.locator("#import-job")).to_be_hidden()
        await page.context.close()
    assert await live.core.store.collection("jobs").count_documents({}) == 0
