"""A ticket's status and priority by keyboard: arrowing through the menu (which steps its value
and fires `change` at each step) saves nothing; Enter or Apply saves the value arrived at, in
one change, and Escape puts the saved one back. So arrowing past Solved never solves the ticket
(nor sends the customer the survey). A pointer's pick still saves at once (see
test_tickets_browser)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.tickets.test_tickets_browser import seed, ticket_id

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_arrowing_through_status_saves_nothing_until_enter_or_apply(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    patches: list[Any] = []
    page.on("request", lambda r: patches.append(r.post_data_json) if r.method == "PATCH" else None)
    crash = await ticket_id(live, "App crash")  # new: every move is on its menu
    await page.goto(live.url + f"/app/tickets/{crash}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    status = page.get_by_label("Status")
    apply = page.get_by_role("button", name="Apply")
    await expect(apply).to_be_hidden()

    await status.focus()
    for _ in range(5):  # Open, Pending, On hold, Solved, and one more
        await page.keyboard.press("ArrowDown")
    await expect(status).to_have_value("solved")
    await expect(apply).to_be_visible()
    await expect(status).to_have_accessible_description(
        "Not saved yet: press Enter or Apply to save it, Escape to put it back."
    )
    await page.keyboard.press("Escape")
    await expect(status).to_have_value("new")
    await expect(apply).to_be_hidden()

    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await expect(status).to_have_value("pending")
    priority = page.get_by_label("Priority")
    await priority.focus()  # leaving the menu saves nothing either
    await page.keyboard.press("ArrowUp")
    await expect(priority).to_have_value("high")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    await expect(apply).to_be_hidden()
    assert patches == [{"status": "pending", "priority": "high"}]

    await status.focus()
    await page.keyboard.press("ArrowUp")  # Pending to Open
    await expect(status).to_have_value("open")
    await apply.click()
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    assert patches == [{"status": "pending", "priority": "high"}, {"status": "open"}]
    stored = await live.core.store.collection("tickets").find_one({"_id": crash})
    assert stored is not None
    assert (stored["status"], stored["priority"]) == ("open", "high")
    assert stored.get("solved_at") is None


async def test_the_chinese_page_words_the_held_change(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.goto(live.url + f"/app/tickets/{await ticket_id(live, 'App crash')}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await page.get_by_label("状态").focus()
    await page.keyboard.press("ArrowDown")
    await expect(page.get_by_role("button", name="应用")).to_be_visible()
    await expect(page.locator("#fields-held-hint")).to_have_text(
        "尚未保存：按回车键或“应用”保存，按 Esc 撤销。"
    )


async def test_assignee_and_team_by_keyboard_and_one_note_per_double_press(live: Live) -> None:
    """Regression (QA demo, left by the status fix): the assignee and team menus saved at
    each arrow step too, and a double press on Add note added it twice."""
    from playwright.async_api import expect

    from tests.support.held import Held

    page = await live.sign_in("alice@kith.test")
    patches: list[Any] = []
    page.on("request", lambda r: patches.append(r.post_data_json) if r.method == "PATCH" else None)
    crash = await ticket_id(live, "App crash")
    await page.goto(live.url + f"/app/tickets/{crash}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    assignee = page.get_by_label("Assignee")
    await assignee.focus()
    await page.keyboard.press("ArrowDown")  # unassigned to the first agent
    chosen = await assignee.input_value()
    assert chosen
    await expect(page.get_by_role("button", name="Apply")).to_be_visible()
    assert patches == []
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    assert patches == [{"assignee_id": chosen}]
    await assignee.focus()
    await page.keyboard.press("ArrowUp")  # back to no one: held, then saved as null
    await page.get_by_role("button", name="Apply").click()
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    assert patches[-1] == {"assignee_id": None}

    held = Held(f"/tickets/{crash}/notes")
    await held.install(page)
    await page.get_by_label("Internal note").fill("Asked the courier")
    add = page.get_by_role("button", name="Add note")
    await add.click()
    await held.first()
    await add.click(force=True)  # disabled while the first is in flight: nothing sent
    await page.get_by_label("Internal note").press("Control+Enter")
    held.release()
    await expect(page.get_by_label("Internal note")).to_have_value("")
    assert held.sent == 1
    notes = live.core.store.collection("ticket_notes")
    assert await notes.count_documents({"ticket_id": crash}) == 1
