"""Merging a duplicate from the ticket page in a real browser, by keyboard: the menu lists the
customer's other tickets that are not closed (subjects as text), the page's dialog asks first
(Escape merges nothing), the page moves to the ticket merged into, whose timeline says so,
and the duplicate's page links to it; in Chinese, a target closed meanwhile is refused at the
menu in the page's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.core.context import Core
from kith.core.models import Workspace
from kith.core.settings import Settings
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.models import Status, TicketIn
from kith.tickets.store import get_ticket
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.tickets.test_tickets_browser import seed, ticket_id

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed_duplicate(core: Core, workspace: Workspace) -> None:
    """The list's seed (Ada's "Refund <b>please</b>", 李雷's 退货 and App crash, his 24 closed
    ones), and a duplicate of Ada's refund."""
    await seed(core, workspace)
    doc = await core.store.collection("tickets").find_one({"subject": "Refund <b>please</b>"})
    assert doc is not None
    body = TicketIn(subject="Refund again <i>dup</i>", customer_id=doc["customer_id"], tags=["dup"])
    await do_create_ticket(core, workspace.id, body)
    # The seed's messages handled now, while their tickets are open: 李雷's "退货" is a
    # keyword, and handled after a test closed his ticket it opened a new one (CI, lane 2).
    await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed_duplicate) as app:
        yield app


async def test_a_duplicate_is_merged_by_keyboard_after_the_dialog_asks(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    duplicate, refund = (
        await ticket_id(live, "Refund again <i>dup</i>"),
        await ticket_id(live, "Refund <b>please</b>"),
    )
    await page.goto(live.url + f"/app/tickets/{duplicate}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    merge = page.get_by_role("region", name="Merge a duplicate")
    menu = merge.get_by_role("combobox", name="Merge into…")
    await expect(menu).to_be_visible()
    # Only Ada's other ticket: not 李雷's, not closed ones, not itself; its subject as text.
    await expect(menu.locator("option")).to_have_text(["#25 · Refund <b>please</b>"])
    await assert_every_control_is_named(page)

    await menu.focus()
    await page.keyboard.press("Tab")
    await expect(merge.get_by_role("button", name="Merge…")).to_be_focused()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(
        "Merge #28 into #25 “Refund <b>please</b>”? #28 will be closed."
    )
    await expect(dialog.locator("b")).to_have_count(0)
    await page.keyboard.press("Escape")  # asked, refused: nothing merged
    await expect(dialog).to_have_count(0)
    # Focus is back on the button that opened the dialog, not on the menu before it.
    await expect(merge.get_by_role("button", name="Merge…")).to_be_focused()
    assert (await get_ticket(live.core, (await _ws(live)), duplicate)).merged_into is None

    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Confirm").focus()
    await page.keyboard.press("Enter")
    # The ticket merged into: focus on its heading (not lost on <body>), the status line says
    # why, and the mark leaves the address so a reload says nothing.
    await expect(page).to_have_url(live.url + f"/app/tickets/{refund}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.get_by_role("heading", level=1)).to_be_focused()
    await expect(page.get_by_role("status").first).to_have_text("#28 merged into this ticket")
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("#28 merged into this ticket")
    await expect(page.get_by_label("Tags")).to_have_value("dup")
    await keep_screenshot(page, "ticket-merged-en.png", tmp_path)

    await page.goto(live.url + f"/app/tickets/{duplicate}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.locator("#timeline")).to_contain_text("Merged into #25")
    await expect(page.get_by_role("region", name="Merge a duplicate")).to_have_count(0)
    link = page.get_by_role("link", name="Merged into #25")
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(live.url + f"/app/tickets/{refund}")


async def test_in_chinese_a_target_closed_meanwhile_is_refused_at_the_menu(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    crash, goods = await ticket_id(live, "App crash"), await ticket_id(live, "退货")
    await page.goto(live.url + f"/app/tickets/{crash}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    merge = page.get_by_role("region", name="合并重复工单")
    menu = merge.get_by_role("combobox", name="合并到…")
    await expect(menu.locator("option")).to_have_text(["#26 · 退货"])
    workspace_id = await _ws(live)
    await do_move_ticket(live.core, workspace_id, goods, Status.solved)
    await do_move_ticket(live.core, workspace_id, goods, Status.closed)

    await merge.get_by_role("button", name="合并…").focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("把 #27 合并到 #26「退货」？#27 将被关闭。")
    await dialog.get_by_role("button", name="确认").focus()
    await page.keyboard.press("Enter")
    await expect(merge.locator('[data-field="into"] .field-error')).to_have_text(
        "#26 已关闭：请选一个未关闭的工单。"
    )
    await expect(menu).to_have_attribute("aria-invalid", "true")
    await expect(menu).to_be_focused()
    assert (await get_ticket(live.core, workspace_id, crash)).merged_into is None

    # An open one of his: merged, and both pages say so in Chinese.
    other = await do_create_ticket(
        live.core,
        workspace_id,
        TicketIn(
            subject="又坏了",
            customer_id=(await get_ticket(live.core, workspace_id, crash)).customer_id,
        ),
    )
    await page.reload()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(menu.locator("option")).to_have_text([f"#{other.number} · 又坏了"])
    await merge.get_by_role("button", name="合并…").focus()
    await page.keyboard.press("Enter")
    await dialog.get_by_role("button", name="确认").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(live.url + f"/app/tickets/{other.id}")
    await expect(page.get_by_role("heading", level=1)).to_be_focused()
    await expect(page.locator("#notice")).to_have_text("#27 已合并到此工单")
    await expect(page.locator("#timeline")).to_contain_text("#27 已合并到此工单")
    await page.goto(live.url + f"/app/tickets/{crash}")
    await expect(page.get_by_role("link", name=f"已合并到 #{other.number}")).to_be_visible()
    await expect(page.locator("#timeline")).to_contain_text(f"已合并到 #{other.number}")


async def test_a_merged_tickets_page_sends_replies_to_the_ticket_it_went_into(live: Live) -> None:
    """Its conversation moved with the merge: the page shows it, but the reply box is the
    other ticket's, in English and Chinese."""
    from playwright.async_api import expect

    from kith.tickets.merge import do_merge_ticket

    refund, duplicate = (
        await ticket_id(live, "Refund <b>please</b>"),
        await ticket_id(live, "Refund again <i>dup</i>"),
    )
    await do_merge_ticket(live.core, await _ws(live), refund, duplicate)
    for email, locale, words in [
        ("alice@kith.test", "en-GB", "Reply in #28, which this ticket was merged into."),
        ("alice@kith.test", "zh-CN", "此工单已合并：请在 #28 中回复。"),
    ]:
        page = await live.sign_in(email, locale=locale)
        await page.goto(live.url + f"/app/tickets/{refund}")
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        await expect(page.locator("#thread li").first).to_be_visible()
        await expect(page.locator("#reply-form")).to_have_count(0)
        link = page.get_by_role("link", name=words)
        await link.focus()
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(live.url + f"/app/tickets/{duplicate}")
        await expect(page.locator("#reply-form")).to_be_visible()
        await page.close()


STALE = {
    "en-GB": "This ticket is merged into #28: work on that ticket.",
    "zh-CN": "此工单已合并到 #28，请在该工单上处理。",
}


async def test_a_page_left_open_on_a_ticket_merged_meanwhile_says_so(live: Live) -> None:
    """Loaded before the merge, the merged ticket's page still offers its controls, its note
    and its reply box: each write is refused (409 `ticket_merged`) and the page says why, in
    its language, naming the ticket merged into; loaded again, the page is read-only."""
    from playwright.async_api import expect

    from kith.tickets.merge import do_merge_ticket

    merged, into = (  # the refund has a conversation, hence a reply box
        await ticket_id(live, "Refund <b>please</b>"),
        await ticket_id(live, "Refund again <i>dup</i>"),
    )
    pages = {}
    for locale in STALE:
        page = await live.sign_in("alice@kith.test", locale=locale)
        await page.goto(live.url + f"/app/tickets/{merged}")
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        await expect(page.locator("#reply-form")).to_be_visible()
        pages[locale] = page
    priority = (await get_ticket(live.core, await _ws(live), merged)).priority
    await do_merge_ticket(live.core, await _ws(live), merged, into)

    for locale, words in STALE.items():
        page = pages[locale]
        # A priority stepped to by keyboard and applied with Enter.
        await page.locator("#ticket-priority").focus()
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        await expect(page.locator("#controls-error")).to_have_text(words)
        await expect(page.locator("#notice")).to_have_text(words)
        # A note.
        await page.locator("#note-form textarea").focus()
        await page.keyboard.type("Late <b>note</b>")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await expect(page.locator("#note-error")).to_have_text(words)
        # A reply.
        await page.locator("#reply-text").focus()
        await page.keyboard.type("Late reply")
        await page.keyboard.press("Control+Enter")
        await expect(page.locator("#reply-error")).to_have_text(words)

        # Loaded again: nothing to write here, the link leads to where the work went.
        await page.reload()
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        for control in ("#ticket-status", "#ticket-priority", "#ticket-assignee", "#ticket-tags"):
            await expect(page.locator(control)).to_be_disabled()
        await expect(page.locator("#note-form")).to_have_count(0)
        await expect(page.locator("#reply-form")).to_have_count(0)
        await expect(page.locator("#merged-into a")).to_be_visible()
        await page.close()
    assert (await get_ticket(live.core, await _ws(live), merged)).priority == priority
    notes = live.core.store.collection("ticket_notes")
    assert await notes.count_documents({"ticket_id": merged}) == 0


async def _ws(live: Live) -> str:
    doc = await live.core.store.collection("tickets").find_one({})
    assert doc is not None
    return str(doc["workspace_id"])
