"""Chosen days, the CSV and the SLA chart on the ticket reports page, in a real browser: an
admin picks "Custom range" and two days by keyboard and reads that range's figures and
heading, downloads the same range as a CSV, reads the SLA chart as an image with words, and
an agent in Chinese is told next to the field what is wrong with a start in the future. The
clock is fixed (7 Dec 2026), so the days are known."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest

from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.tickets.test_reports_page_browser import fixed_clock, seed

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, prepare=fixed_clock) as app:
        yield app


async def _tab_to(page: object, element_id: str, most: int = 6) -> None:
    """Tab until `element_id` has the focus: a date field is several stops (its month, day
    and year, in the order of the browser's language)."""
    for _ in range(most):
        await page.keyboard.press("Tab")  # type: ignore[attr-defined]
        if await page.evaluate("document.activeElement.id") == element_id:  # type: ignore[attr-defined]
            return
    raise AssertionError(f"Tab never reached #{element_id}")


async def _choose_days_by_keyboard(page: object, first: str, last: str) -> None:
    """ "Custom range" chosen in the period's list by arrows, then Tab past Show to the two
    days (filled as a date picker fills them), and Enter in the last to send the form."""
    await page.locator("#period").focus()  # type: ignore[attr-defined]
    for _ in range(3):  # 30 days → 90 days → Custom range (the list's last)
        await page.keyboard.press("ArrowDown")  # type: ignore[attr-defined]
    for field, day in (("from", first), ("to", last)):
        await _tab_to(page, field)
        await page.locator("#" + field).fill(day)  # type: ignore[attr-defined]
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]


async def test_an_admin_chooses_days_reads_them_and_downloads_them(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/tickets/reports")
    await assert_every_control_is_named(page)
    await expect(page.get_by_label("From", exact=True)).to_have_value("2026-11-07")
    await _choose_days_by_keyboard(page, "2026-12-01", "2026-12-07")
    query = "?from=2026-12-01&to=2026-12-07"  # tidied: what the page shows, to be shared
    await expect(page).to_have_url(live.url + "/app/tickets/reports" + query)
    await expect(page).to_have_title("Ticket reports · 1 Dec 2026 – 7 Dec 2026 · Kith")
    heading = page.get_by_role("heading", name="1 Dec 2026 – 7 Dec 2026")
    await expect(heading).to_be_visible()
    await expect(page.get_by_label("Period")).to_have_value("custom")
    await expect(page.locator('[data-figure="answered"]')).to_have_text("2")
    chart = page.get_by_role("img", name="SLA targets met per metric")
    await expect(chart).to_be_visible()
    # `svg_chart` names the image by its title and describes it by its description.
    await expect(chart).to_have_accessible_name("SLA targets met per metric")
    await expect(chart).to_have_accessible_description(
        "Share of targets met: First reply 100% (2 of 2), "
        "Next reply none yet, Resolution 100% (2 of 2)."
    )
    await expect(chart.locator("rect[data-metric='first_reply']")).to_have_attribute(
        "data-percent", "100.0"
    )
    await expect(page.get_by_role("table", name="By policy")).to_be_visible()  # tables stay
    link = page.get_by_role("link", name="Download CSV")
    await link.focus()
    async with page.expect_download() as waiting:
        await page.keyboard.press("Enter")
    download = await waiting.value
    assert download.suggested_filename == "kith-reports-2026-12-01-2026-12-07.csv"
    saved = await download.path()
    text = saved.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    found = {(r["section"], r["name"], r["metric"]): r["value"] for r in rows}
    assert found[("satisfaction_overall", "", "average_score")] == "4.5"
    assert found[("sla_by_agent", "Alice", "first_reply_percent")] == "100.0"
    await _choose_days_by_keyboard(page, "2026-11-01", "2026-11-30")
    await expect(page.locator("#report-range")).to_have_text("1 Nov 2026 – 30 Nov 2026")
    await expect(page.locator("#no-answers")).to_be_visible()


async def test_an_agent_is_told_in_chinese_next_to_the_day_that_is_wrong(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/tickets/reports")
    await _choose_days_by_keyboard(page, "2026-12-10", "2026-12-20")
    start = page.get_by_label("开始日期")
    await expect(start).to_have_attribute("aria-invalid", "true")
    await expect(start).to_be_focused()  # the keyboard is at the fix
    await expect(start).to_have_accessible_description(
        "开始和结束日期按 UTC 计整天：从开始日期零点到结束日期最后一刻，"
        "最多 366 天。 "
        "开始日期在未来：请选择今天或更早的日期。"
    )
    await expect(page.locator("#from-error")).to_be_visible()
    await expect(page.locator("#fix-range")).to_have_text("请先修改上面的日期，再查看数据。")
    await assert_every_control_is_named(page)
    await start.fill("2026-12-01")
    await page.keyboard.press("Enter")
    await expect(page.locator("#report-range")).to_have_text("2026年12月1日 – 2026年12月20日")
    await expect(page.get_by_role("img", name="各指标的 SLA 达成率")).to_be_visible()
    await expect(page.get_by_role("link", name="下载 CSV")).to_have_attribute(
        "href", "/app/tickets/reports.csv?from=2026-12-01&to=2026-12-20"
    )


async def test_days_typed_over_the_shown_ones_are_read_whatever_the_list_says(
    live: Live,
) -> None:
    """The list left at "Last 30 days": typed days still count (they were ignored)."""
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/tickets/reports")
    await expect(page.get_by_label("Period")).to_have_value("30")
    await page.locator("#period").focus()
    for field, day in (("from", "2026-12-01"), ("to", "2026-12-07")):
        await _tab_to(page, field)
        await page.locator("#" + field).fill(day)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(live.url + "/app/tickets/reports?from=2026-12-01&to=2026-12-07")
    await expect(page.locator("#report-range")).to_have_text("1 Dec 2026 – 7 Dec 2026")
    await expect(page.get_by_label("Period")).to_have_value("custom")
