"""The Tickets pages in a real browser: an agent finds tickets in the list (filters, search,
pages), moves them on the board by keyboard and by mouse (a refused move says which are
allowed), works one ticket (controls, SLA clocks, satisfaction, timeline and notes) and opens
a ticket from the inbox's conversation panel; Chinese too, and a marketer only reads.

The SLA, satisfaction and timeline come from other parts of the service desk: the page is
shown here with answers shaped like their contracts (see `Contract`), served in the browser's
network layer, and also without them (what the page does before they land)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel, load
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.models import Priority, Status, TicketIn
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.support.written_dates import day_time
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
OLD = 24  # closed tickets: the list pages past 25, the board (no closed column) stays short


async def seed(core: Core, workspace: Workspace) -> None:
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    said = {}
    for uid, name, texts in (
        ("u-ada", "Ada Lovelace", ["Hello", "My parcel never came <b>at all</b>"]),
        ("u-li", "李雷", ["你好，我想退货。"]),
    ):
        for n, text in enumerate(texts):
            user = InboundUser(id=uid, name=name)
            message = InboundMessage.on(
                channel, channel_message_id=f"{uid}-{n}", user=user, text=text
            )
            said[uid] = (await ingest(core, channel, message)).conversation
    for name, role in (("alice", Role.agent), ("mary", Role.marketer)):
        user = await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )
        if role == Role.agent:
            team = await create_team(core, workspace.id, "Web", [channel.id])
            await add_member(core, workspace.id, team.id, user.id)
    ws = workspace.id
    for n in range(OLD):
        old = await do_create_ticket(
            core, ws, TicketIn(subject=f"Old question {n}", customer_id=said["u-li"].customer_id)
        )
        await do_move_ticket(core, ws, old.id, Status.solved)
        await do_move_ticket(core, ws, old.id, Status.closed)
    refund = TicketIn(
        subject="Refund <b>please</b>", conversation_id=said["u-ada"].id, priority=Priority.high
    )
    made = await do_create_ticket(core, ws, refund)
    await do_move_ticket(core, ws, made.id, Status.open)
    await do_create_ticket(core, ws, TicketIn(subject="退货", conversation_id=said["u-li"].id))
    agent = Author(kind=AuthorKind.agent, name="Alice")
    await do_create_ticket(
        core, ws, TicketIn(subject="App crash", customer_id=said["u-li"].customer_id), agent
    )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def ticket_id(live: Live, subject: str) -> str:
    doc = await live.core.store.collection("tickets").find_one({"subject": subject})
    assert doc is not None
    return str(doc["_id"])


async def test_the_list_filters_searches_and_pages(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    nav = page.get_by_role("navigation", name="Sections")
    await nav.get_by_role("link", name="Tickets").click()
    await expect(page).to_have_url(live.url + "/app/tickets")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await assert_every_control_is_named(page)
    table = page.get_by_role("table", name="All tickets")
    rows = table.locator("tbody tr")
    await expect(rows).to_have_count(25)
    # Updated: as every page writes a date (KithDom.dateTime), with its year; not "Dec 5, 03:23 AM".
    await expect(rows.first.locator("time")).to_have_text(day_time("en"))
    # Customer text is text: the subject shows its brackets, no element is made of it.
    await expect(table.get_by_role("cell", name="Refund <b>please</b>")).to_be_visible()
    await expect(table.locator("tbody b")).to_have_count(0)
    await page.get_by_role("button", name="Load more").click()
    await expect(rows).to_have_count(OLD + 3)
    await expect(page.get_by_role("button", name="Load more")).to_be_hidden()

    await page.get_by_role("searchbox", name="Number or subject").fill("#26")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("退货")
    await page.get_by_role("searchbox", name="Number or subject").fill("")
    await page.get_by_label("Priority").select_option(label="High")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Open")
    await page.get_by_label("Priority").select_option(label="Any")
    await page.get_by_role("combobox", name="Status").select_option(label="New")
    await expect(rows).to_have_count(2)
    await page.get_by_label("Assignee").select_option(label="Me")
    await expect(page.get_by_text("No tickets match.")).to_be_visible()
    await page.get_by_label("Assignee").select_option(label="Any")
    await expect(rows).to_have_count(2)
    await keep_screenshot(page, "tickets-en.png", tmp_path)

    await rows.first.get_by_role("link", name=re.compile(r"^#\d+$")).click()
    await expect(page).to_have_url(re.compile(r"/app/tickets/\w+$"))


async def test_the_board_moves_by_keyboard_and_mouse_and_says_what_is_refused(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.goto(live.url + "/app/tickets")
    await page.get_by_role("button", name="Board").click()
    await expect(page).to_have_url(live.url + "/app/tickets?view=board")
    board = page.get_by_role("region", name="Tickets by status")
    column = {
        s: board.get_by_role("list", name=re.compile("^" + s))
        for s in ("New", "Open", "Pending", "On hold", "Solved")
    }
    await expect(column["New"].get_by_role("listitem")).to_have_count(2)
    await assert_every_control_is_named(page)
    crash = column["New"].get_by_role("listitem", name=re.compile("App crash"))

    await crash.focus()
    await page.keyboard.press("ArrowRight")
    notice = page.get_by_role("status").first
    await expect(notice).to_have_text("#27 moved to Open.")
    moved = column["Open"].get_by_role("listitem", name=re.compile("App crash"))
    await expect(moved).to_be_focused()
    crash_id = await ticket_id(live, "App crash")
    stored = await live.core.store.collection("tickets").find_one({"_id": crash_id})
    assert stored is not None and stored["status"] == "open"

    await page.keyboard.press("ArrowLeft")  # open → new is not a move: said, not sent
    await expect(notice).to_have_text(
        "#27 is Open: no column before it is one it may move to."
        " It can move to Pending, On hold, Solved."
    )
    await expect(column["Open"].get_by_role("listitem")).to_have_count(2)

    await page.keyboard.press("ArrowRight")
    await expect(
        column["Pending"].get_by_role("listitem", name=re.compile("App crash"))
    ).to_be_focused()
    menu = column["Pending"].get_by_label("Move to (#27)")
    await menu.select_option(label="Solved")  # asked first, as by keyboard: not by a slip
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Move #27 to Solved?")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(notice).to_have_text("#27 stays Pending.")
    await expect(menu).to_have_value("")
    await menu.select_option(label="Solved")
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(
        column["Solved"].get_by_role("listitem", name=re.compile("App crash"))
    ).to_be_visible()

    refund = column["Open"].get_by_role("listitem", name=re.compile("Refund"))
    await refund.drag_to(board.locator('.column[data-status="on_hold"]'))
    await expect(
        column["On hold"].get_by_role("listitem", name=re.compile("Refund"))
    ).to_be_visible()
    await expect(notice).to_have_text("#25 moved to On hold.")
    await keep_screenshot(page, "tickets-board-en.png", tmp_path)

    await column["New"].get_by_role("listitem").first.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/app/tickets/\w+$"))


@dataclass
class Contract:
    """The SLA, satisfaction and timeline answers of the branches that serve them, in the
    shapes the issue and their authors promise, layered on the real ticket answers."""

    now: Any
    notes: list[dict[str, Any]] = field(default_factory=list)

    def sla(self, status: str) -> dict[str, Any]:
        return {
            "policy": {"id": "p1", "name": "Standard"},
            "first_reply_due_at": (self.now + timedelta(hours=2, minutes=30)).isoformat(),
            "next_reply_due_at": None,
            "resolution_due_at": (self.now - timedelta(minutes=45)).isoformat(),
            "paused": status in ("pending", "on_hold"),
            "breached": ["resolution"],
        }

    def csat(self) -> dict[str, Any]:
        return {
            "score": 2,
            "reason": "Too <i>slow</i>",
            "asked_at": self.now.isoformat(),
            "answered_at": self.now.isoformat(),
            "skipped": None,
        }

    def timeline(self) -> dict[str, Any]:
        customer = {"kind": "customer", "id": "c1", "name": "Ada <b>Lovelace</b>"}
        agent = {"kind": "agent", "id": "a1", "name": "Alice"}
        items = [
            {
                "kind": "event",
                "at": self.now.isoformat(),
                "author": agent,
                "type": "ticket.created",
                "data": {"number": 25},
            },
            {
                "kind": "message",
                "at": self.now.isoformat(),
                "author": customer,
                "text": "My parcel never came <b>at all</b>",
            },
            {
                "kind": "event",
                "at": self.now.isoformat(),
                "author": agent,
                "type": "ticket.status_changed",
                "data": {"from": "new", "to": "open"},
            },
            {
                "kind": "message",
                "at": self.now.isoformat(),
                "author": {"kind": "system", "name": "orders"},  # kith.orders.notices
                "text": "Order #2 shipped",
            },
            *self.notes,
        ]
        return {"items": items, "next_cursor": None}

    async def install(self, page: Any) -> None:
        async def ticket(route: Any) -> None:
            response = await route.fetch()
            answer = await response.json()
            if response.ok:
                answer |= {"sla": self.sla(answer["status"]), "csat": self.csat()}
            await route.fulfill(response=response, json=answer)

        async def timeline(route: Any) -> None:
            await route.fulfill(json=self.timeline())

        async def notes(route: Any) -> None:
            text = json.loads(route.request.post_data)["text"]
            note = {
                "kind": "note",
                "at": self.now.isoformat(),
                "text": text,
                "author": {"kind": "agent", "id": "a1", "name": "Alice"},
            }
            self.notes.append(note)
            await route.fulfill(status=201, json=note)

        await page.route(re.compile(r"/app/api/tickets/[^/?]+$"), ticket)
        await page.route(re.compile(r"/app/api/tickets/[^/?]+/timeline(\?.*)?$"), timeline)
        await page.route(re.compile(r"/app/api/tickets/[^/?]+/notes$"), notes)


async def test_a_ticket_page_shows_clocks_satisfaction_and_the_timeline(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await Contract(live.core.clock.now()).install(page)
    refund = await ticket_id(live, "Refund <b>please</b>")
    await page.goto(live.url + f"/app/tickets/{refund}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await assert_every_control_is_named(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text("#25 Refund <b>please</b>")
    customer = page.get_by_role("link", name="Ada Lovelace")
    ada = await live.core.store.customers.find_one({"name": "Ada Lovelace"})
    assert ada is not None
    await expect(customer).to_have_attribute("href", f"/app/contacts/{ada['_id']}")
    await expect(page.get_by_role("link", name="Conversation on Website, Open")).to_have_attribute(
        "href", re.compile(r"^/app\?conversation=\w+$")
    )
    quote = page.locator("#description blockquote")  # the customer's words, quoted as text
    await expect(quote).to_have_text(re.compile(r"^Hello\s+My parcel never came <b>at all</b>$"))

    sla = page.get_by_role("region", name="SLA")
    await expect(sla).to_contain_text("Policy: Standard")
    await expect(sla.locator("li", has_text="First reply")).to_contain_text(
        re.compile(r"2 h (29|30) min left")
    )
    resolution = sla.locator("li", has_text="Resolution")
    await expect(resolution).to_contain_text(re.compile(r"overdue by 4[45] min · breached"))
    await expect(resolution).to_have_class(re.compile("breached"))
    await expect(sla.locator("li", has_text="Next reply")).to_have_count(0)
    csat = page.get_by_role("region", name="Satisfaction")
    await expect(csat).to_contain_text("2 out of 5")
    await expect(csat.locator("q")).to_have_text("Too <i>slow</i>")

    timeline = page.get_by_role("list", name="Timeline")
    await expect(timeline.get_by_role("listitem")).to_have_count(4)
    await expect(timeline.locator("time")).to_have_text([day_time("en")] * 4)
    await expect(timeline).to_contain_text("moved it from New to Open")
    # An order notice's author is the feature, worded: not its code "orders".
    await expect(timeline.get_by_role("listitem").nth(3)).to_contain_text("Orders · message")
    await expect(timeline.get_by_role("listitem").nth(1)).to_contain_text(
        "Ada <b>Lovelace</b> · message"
    )
    await page.get_by_label("Internal note").fill("Courier says <Tuesday>")
    await page.get_by_role("button", name="Add note").click()
    await expect(timeline.get_by_role("listitem")).to_have_count(5)
    await expect(timeline.get_by_role("listitem").last).to_contain_text("Courier says <Tuesday>")
    await keep_screenshot(page, "ticket-en.png", tmp_path)

    await page.get_by_label("Status").select_option(label="Pending")
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    await expect(sla.locator("li", has_text="First reply")).to_contain_text("paused")
    await expect(sla).to_contain_text(
        "The clocks are paused while the ticket is pending or on hold."
    )
    await page.get_by_label("Priority").select_option(label="Urgent")
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    await page.get_by_label("Assignee").select_option(label="Alice")
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    await page.get_by_label("Team").select_option(label="Web")
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    await page.get_by_label("Tags (comma separated)").fill("refund, courier")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
    stored = await live.core.store.collection("tickets").find_one({"_id": refund})
    assert stored is not None
    assert (stored["status"], stored["priority"], stored["tags"]) == (
        "pending",
        "urgent",
        ["refund", "courier"],
    )
    assert stored["assignee_id"] is not None and stored["team_id"] is not None
    # The status menu offers only the moves allowed from where the ticket is.
    options = await page.get_by_label("Status").locator("option").all_text_contents()
    assert options == ["Open", "Pending", "On hold", "Solved"]  # the board's order


async def test_a_ticket_without_a_policy_or_a_rating_says_so_quietly(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.goto(live.url + f"/app/tickets/{await ticket_id(live, 'App crash')}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.get_by_text("No SLA clock on this ticket.")).to_be_visible()
    await expect(page.get_by_role("region", name="Satisfaction")).to_be_hidden()
    await expect(page.get_by_role("region", name="Timeline")).to_be_visible()
    await expect(page.get_by_text("No linked conversation.")).to_be_visible()
    await expect(page.locator("#notice")).to_have_text("")


async def test_the_inbox_panel_opens_a_ticket_in_one_click(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.locator("#conversations .conv", has_text="Ada Lovelace").click()
    panel = page.get_by_role("region", name="Tickets")
    await expect(panel.get_by_role("link", name="#25 Refund <b>please</b>")).to_be_visible()
    subject = panel.get_by_label("Subject of a new ticket")
    await expect(subject).to_have_value("My parcel never came <b>at all</b>")
    await subject.fill("Parcel lost")
    await panel.get_by_role("button", name="Open a ticket").click()
    opened = panel.get_by_role("link", name="Ticket #28 opened.")
    await expect(opened).to_be_visible()
    await expect(panel.get_by_role("link", name="#28 Parcel lost")).to_be_visible()
    await expect(panel.get_by_role("listitem").first).to_contain_text("New")
    await keep_screenshot(page, "inbox-tickets-en.png", tmp_path)
    stored = await live.core.store.collection("tickets").find_one({"number": 28})
    assert stored is not None and stored["description"].startswith("> Hello")
    await opened.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("#28 Parcel lost")


async def test_a_ticket_in_the_inbox_panel_opens_across_a_new_message(live: Live) -> None:
    """Regression: the panel drew its tickets anew on each message of the conversation, so a
    click pressed on a ticket before one arrived and released after opened nothing."""
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.locator("#conversations .conv", has_text="Ada Lovelace").click()
    refund = page.get_by_role("region", name="Tickets").get_by_role("link", name=re.compile("#25"))
    await expect(refund).to_be_visible()
    box = await refund.bounding_box()
    assert box is not None, "the link was taken out as the conversation's opening redrew it"
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    channel = load(live.core, await live.core.store.channels.find_one({"name": "Website"}))
    user = InboundUser(id="u-ada", name="Ada Lovelace")
    again = InboundMessage.on(channel, channel_message_id="u-ada-9", user=user, text="Any news?")
    async with page.expect_response(re.compile(r"/tickets\?conversation_id=")):
        await ingest(live.core, channel, again)  # the panel asks for its tickets again
    await page.mouse.up()
    await expect(page.get_by_role("heading", level=1)).to_have_text("#25 Refund <b>please</b>")


async def test_in_chinese_and_read_only_for_a_marketer(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/tickets?view=board")
    await expect(page.get_by_role("heading", name="处理中")).to_be_visible()
    await expect(page.locator(".ticket-card")).to_have_count(3)
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    await assert_every_control_is_named(page)
    await keep_screenshot(page, "tickets-zh.png", tmp_path)
    await page.locator(".ticket-card", has_text="App crash").focus()
    await page.keyboard.press("ArrowRight")
    await expect(page.locator("#notice")).to_have_text("#27 已移到「处理中」。")
    await expect(
        page.locator('.column[data-status="open"] .ticket-card', has_text="App crash")
    ).to_be_focused()
    await page.keyboard.press("ArrowLeft")
    await expect(page.locator("#notice")).to_have_text(
        "#27 当前为「处理中」，前面没有它能移入的列。它可以移到：等待客户、挂起、已解决。"
    )
    await Contract(live.core.clock.now()).install(page)
    await page.goto(live.url + f"/app/tickets/{await ticket_id(live, 'Refund <b>please</b>')}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    await expect(page.get_by_role("region", name="SLA")).to_contain_text("已超时")
    await expect(page.get_by_role("region", name="满意度")).to_contain_text("2 / 5 分")
    orders = page.get_by_role("list", name="时间线").get_by_role("listitem").nth(3)
    await expect(orders.locator("time")).to_have_text(day_time("zh"))  # not 12月5日 03:23
    await expect(orders).to_contain_text("订单 · 消息")
    await keep_screenshot(page, "ticket-zh.png", tmp_path)

    mary = await live.sign_in("mary@kith.test")
    await expect(
        mary.get_by_role("navigation", name="Sections").get_by_role("link", name="Tickets")
    ).to_have_count(0)
    await mary.goto(live.url + "/app/tickets?view=board")
    await expect(mary.locator(".ticket-card")).to_have_count(3)
    await expect(
        mary.get_by_text("You can read tickets; agents and admins change them.")
    ).to_be_visible()
    await expect(mary.get_by_label(re.compile("^Move to"))).to_have_count(0)
    await mary.goto(live.url + f"/app/tickets/{await ticket_id(live, 'App crash')}")
    await expect(mary.get_by_label("Status")).to_be_disabled()
    await expect(mary.get_by_role("button", name="Add note")).to_have_count(0)


# How many leaves of an element show `text` on screen (a visually hidden one is 1px wide).
SHOWN = """(root, text) => [...root.querySelectorAll("*")].filter((el) => !el.children.length
  && el.textContent.trim() === text && el.getBoundingClientRect().width > 1).length"""


async def test_the_header_names_the_section_once(live: Live) -> None:
    """Regression: the Tickets pages said "Tickets" twice in their header, the current nav
    link and a bold title beside it. The link marks the section; the h1 is for screen
    readers only, except where it says more (a ticket's number and subject) or where no link
    says it (a marketer reads tickets without a Tickets link)."""
    from playwright.async_api import expect

    refund = await ticket_id(live, "Refund <b>please</b>")
    for locale, section in (("en-US", "Tickets"), ("zh-CN", "工单")):
        page = await live.sign_in("alice@kith.test", locale=locale)
        sections = page.get_by_role("navigation", name=re.compile("^(Sections|栏目)$"))
        for path in ("/app/tickets", "/app/tickets/no-such-ticket"):
            await page.goto(live.url + path)
            header = page.locator("header.top")
            await expect(page.get_by_role("heading", level=1, name=section)).to_have_count(1)
            assert await header.evaluate(SHOWN, section) == 1, path
            current = sections.get_by_role("link", name=section)
            await expect(current).to_have_attribute("aria-current", "page")
        await page.goto(live.url + f"/app/tickets/{refund}")
        heading = page.get_by_role("heading", level=1)
        await expect(heading).to_have_text("#25 Refund <b>please</b>")
        await expect(heading).to_be_visible()
        box = await heading.bounding_box()
        assert box is not None and box["width"] > 1  # shown, not only for screen readers

    mary = await live.sign_in("mary@kith.test")
    await mary.goto(live.url + "/app/tickets")
    await expect(
        mary.get_by_role("navigation", name="Sections").get_by_text("Tickets")
    ).to_have_count(0)
    assert await mary.locator("header.top").evaluate(SHOWN, "Tickets") == 1  # the h1 itself
