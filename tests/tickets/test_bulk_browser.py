"""The Tickets list's bulk change in a real browser, by keyboard: rows ticked one by one or all
at once, one change for them from the bar, Solved asked first; the list reads again with no
ticks and the page says how many changed and which were refused, in English and Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.settings import Settings
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.tickets.test_list_customer_browser import seed

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def stored(live: Live, field: str) -> dict[int, object]:
    docs = await live.core.store.collection("tickets").find({}).to_list(None)
    return {d["number"]: d[field] for d in docs}


async def test_ticked_rows_change_together_by_keyboard(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.goto(live.url + "/app/tickets")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    notice = page.locator("#notice")
    bar = page.get_by_role("group", name="Change the selected tickets")
    menu = bar.get_by_role("combobox", name="Change selected to")
    await expect(menu).to_be_hidden()  # nothing ticked: no change to make

    for number in (2, 3):
        tick = page.get_by_role("checkbox", name=f"Select #{number}")
        await tick.focus()
        await page.keyboard.press("Space")
        await expect(tick).to_be_checked()
    await expect(bar).to_contain_text("2 selected")
    every = bar.get_by_role("checkbox", name="Select all tickets on this page")
    assert await every.evaluate("(box) => box.indeterminate")
    await assert_every_control_is_named(page)
    await menu.select_option(label="Priority: Urgent")
    await bar.get_by_role("button", name="Apply").focus()
    await page.keyboard.press("Enter")

    await expect(notice).to_have_text("2 tickets updated.")
    await expect(every).to_be_focused()
    await expect(page.locator("input.tick-one:checked")).to_have_count(0)
    await expect(menu).to_be_hidden()
    await expect(page.get_by_role("row", name="Broken image")).to_contain_text("Urgent")
    assert await stored(live, "priority") == {1: "normal", 2: "urgent", 3: "urgent", 4: "normal"}

    # Every row, to Solved: asked first; Escape keeps them, then Confirm moves those that may
    # move and says why the closed one did not.
    await page.keyboard.press("Space")
    await expect(bar).to_contain_text("4 selected")
    await menu.select_option(label="Status: Solved")
    apply = bar.get_by_role("button", name="Apply")
    await apply.focus()
    await page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Move 4 tickets to Solved?", exact=False)
    await expect(confirm).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(notice).to_have_text("Nothing changed.")
    await expect(apply).to_be_focused()
    assert await stored(live, "status") == {1: "closed", 2: "new", 3: "new", 4: "new"}
    await page.keyboard.press("Enter")
    await confirm.get_by_role("button", name="Confirm").click()
    await expect(notice).to_have_text("3 tickets updated. #1 is Closed: it cannot move.")
    assert await stored(live, "status") == {1: "closed", 2: "solved", 3: "solved", 4: "solved"}
    alice = await live.core.store.users.find_one({"email": "alice@kith.test"})
    assert alice is not None  # a person who solves an unassigned ticket is credited
    assert set((await stored(live, "assignee_id")).values()) == {None, alice["_id"]}
    assert await live.core.store.events.count_documents({"type": "ticket.status_changed"}) == 2 + 3


async def test_the_bulk_change_speaks_chinese(live: Live) -> None:
    from playwright.async_api import expect

    zh = messages("zh")
    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/tickets")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    bar = page.get_by_role("group", name=zh["tickets_bulk"])
    every = bar.get_by_role("checkbox", name=zh["tickets_select_all"])
    await every.focus()
    await page.keyboard.press("Space")
    await expect(bar).to_contain_text(zh["tickets_bulk_selected"].replace("{n}", "4"))
    pending = zh["tickets_status"] + zh["colon"] + zh["ticket_status_pending"]  # 状态：等待客户
    await bar.get_by_role("combobox", name=zh["tickets_bulk_change"]).select_option(label=pending)
    await bar.get_by_role("button", name=zh["tickets_bulk_apply"]).click()
    closed = zh["tickets_refused_none"].replace("{number}", "1")
    closed = closed.replace("{status}", zh["ticket_status_closed"])
    await expect(page.locator("#notice")).to_have_text(f"已更新 3 个工单。 {closed}")
    assert await stored(live, "status") == {1: "closed", 2: "pending", 3: "pending", 4: "pending"}
