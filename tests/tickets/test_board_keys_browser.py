"""The ticket board by keyboard in a real browser: ← and → move a card to the nearest column
that way it may move to (skipping those it cannot enter), a move into Solved waits for the
page's confirmation (Escape keeps the ticket where it is), and where no column that way is
allowed the page says so in its language without asking the server (QA: → three times
solved a ticket unasked and sent the survey; ← then answered a 409)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.models import Status, TicketIn
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed(core: Core, workspace: Workspace) -> None:
    ws = workspace.id
    channel, _ = await create_channel(core, ws, "api", "Website", {})
    user = InboundUser(id="u-ada", name="Ada")
    said = InboundMessage.on(channel, channel_message_id="ada-1", user=user, text="Where is it?")
    received = await ingest(core, channel, said)
    await create_user(core, ws, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin)
    body = TicketIn(subject="Parcel", conversation_id=received.conversation.id)
    ticket = await do_create_ticket(core, ws, body)
    await do_move_ticket(core, ws, ticket.id, Status.open)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def stored(live: Live) -> dict[str, Any]:
    doc = await live.core.store.collection("tickets").find_one({"subject": "Parcel"})
    assert doc is not None
    return doc


async def test_arrows_go_to_allowed_columns_and_solved_asks_first(live: Live) -> None:
    from playwright.async_api import expect

    number = (await stored(live))["number"]
    page = await live.sign_in("admin@kith.test")
    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
    await page.goto(live.url + "/app/tickets?view=board")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.locator("#board-help")).to_have_text(
        "On a ticket: ← and → move it to the nearest column before or after that it may move"
        " to (Solved asks first), Enter opens it; or drag it to a column."
    )
    notice = page.locator("#notice")
    card = {
        s: page.locator(f'.column[data-status="{s}"] .ticket-card', has_text="Parcel")
        for s in ("new", "open", "pending", "on_hold", "solved")
    }
    await card["open"].focus()
    await page.keyboard.press("ArrowRight")
    await expect(notice).to_have_text(f"#{number} moved to Pending.")
    await expect(card["pending"]).to_be_focused()
    await page.keyboard.press("ArrowRight")
    await expect(notice).to_have_text(f"#{number} moved to On hold.")
    await expect(card["on_hold"]).to_be_focused()

    # Into Solved: the page's dialog asks; Escape keeps the ticket on hold, nothing sent.
    await page.keyboard.press("ArrowRight")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(f"Move #{number} to Solved?")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(notice).to_have_text(f"#{number} stays On hold.")
    await expect(card["on_hold"]).to_be_focused()
    assert (await stored(live))["status"] == "on_hold"
    assert len(patches) == 2

    await page.keyboard.press("ArrowRight")
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(notice).to_have_text(f"#{number} moved to Solved.")
    await expect(card["solved"]).to_be_focused()
    assert (await stored(live))["status"] == "solved"

    # No column after Solved it may enter (Closed is not on the board): said, not sent.
    await page.keyboard.press("ArrowRight")
    await expect(notice).to_have_text(
        f"#{number} is Solved: no column after it is one it may move to."
        " It can move to Open, Closed."
    )
    # ← from Solved skips On hold and Pending, which a solved ticket cannot enter.
    await page.keyboard.press("ArrowLeft")
    await expect(notice).to_have_text(f"#{number} moved to Open.")
    await expect(card["open"]).to_be_focused()
    await page.keyboard.press("ArrowLeft")  # New is no move from Open
    await expect(notice).to_have_text(
        f"#{number} is Open: no column before it is one it may move to."
        " It can move to Pending, On hold, Solved."
    )
    await expect(card["open"]).to_be_focused()
    assert len(patches) == 4  # pending, on hold, solved, open: no request refused
    assert (await stored(live))["status"] == "open"


async def test_in_chinese(live: Live) -> None:
    from playwright.async_api import expect

    number = (await stored(live))["number"]
    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/tickets?view=board")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.locator("#board-help")).to_contain_text("移到「已解决」前会先确认")
    card = page.locator(".ticket-card", has_text="Parcel")
    await card.focus()
    await page.keyboard.press("ArrowLeft")
    await expect(page.locator("#notice")).to_have_text(
        f"#{number} 当前为「处理中」，前面没有它能移入的列。它可以移到：等待客户、挂起、已解决。"
    )
    await page.keyboard.press("ArrowRight")
    await expect(page.locator("#notice")).to_have_text(re.compile(f"#{number} 已移到「等待客户」"))
    await page.keyboard.press("ArrowRight")
    await expect(page.locator("#notice")).to_have_text(f"#{number} 已移到「挂起」。")
    await page.keyboard.press("ArrowRight")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"把 #{number} 移到「已解决」？")
    await dialog.get_by_role("button", name="取消").click()
    await expect(page.locator("#notice")).to_have_text(f"#{number} 仍为「挂起」。")
    assert (await stored(live))["status"] == "on_hold"
