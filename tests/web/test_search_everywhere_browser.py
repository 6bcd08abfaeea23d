"""The search across everything in a real browser: the box in every page's user menu, Enter,
the grouped page (counts, the reader's scope, customers' words as text), the arrow keys and
Tab through the results, and "see all" opening each list filtered by the same words; in
English and in Chinese."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from kith.tickets.actions import do_create_ticket
from kith.tickets.models import TicketIn
from tests.support.browser import needs_chromium
from tests.support.consumers import indexed
from tests.support.pages import UNNAMED_CONTROLS, Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

HOSTILE = "<img src=x onerror=alert(1)> Kettle"


async def seed(core: Core, workspace: Workspace) -> None:
    """Sales answers the shop (Ada, and a customer named like markup), Support the help desk
    (Grace); all three wrote about a kettle, and Ada has a ticket about it."""
    shop, _ = await create_channel(core, workspace.id, "api", "Shop", {})
    help_, _ = await create_channel(core, workspace.id, "api", "Help desk", {})
    sales = await create_team(core, workspace.id, "Sales", [shop.id])
    await create_team(core, workspace.id, "Support", [help_.id])
    await create_user(core, workspace.id, "root@kith.test", PASSWORD, name="Root", role=Role.admin)
    alice = await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent
    )
    await add_member(core, workspace.id, sales.id, alice.id)
    said = {}
    for channel, who, name, text in (
        (shop, "u-ada", "Ada Lovelace", "my kettle leaks"),
        (shop, "u-mal", HOSTILE, "<b>kettle</b> <script>alert(2)</script>"),
        (help_, "u-grace", "Grace Hopper", "the kettle will not boil"),
    ):
        message = InboundMessage.on(
            channel, channel_message_id=f"m-{who}", user=InboundUser(id=who, name=name), text=text
        )
        said[who] = (await ingest(core, channel, message)).conversation.id
    body = TicketIn(subject="Kettle leaks", conversation_id=said["u-ada"])
    await do_create_ticket(core, workspace.id, body)
    await indexed(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


def heading(page, name: str):
    return page.get_by_role("heading", name=name, exact=True)


async def test_an_agent_finds_by_the_header_box_and_goes_through_by_keyboard(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    menu = page.get_by_role("button", name="Account menu for Alice")
    await expect(menu).to_be_enabled()
    await menu.focus()
    await page.keyboard.press("Enter")  # the box is the menu's first item
    await page.keyboard.press("Tab")
    box = page.get_by_role("searchbox", name="Find conversations, tickets and customers")
    await expect(box).to_be_focused()
    await box.fill("kettle")
    await box.press("Enter")
    await expect(page).to_have_url(re.compile(r"/app/search\?q=kettle$"))
    # Grace talks to Support: Alice's lists do not hold her, nor does this page
    await expect(heading(page, "Conversations (2)")).to_be_visible()
    await expect(heading(page, "Tickets (1)")).to_be_visible()
    # customers by their profile (as Contacts finds them): the one named so
    await expect(heading(page, "Customers (1)")).to_be_visible()
    results = page.locator("[data-results]")
    await expect(results).not_to_contain_text("Grace")
    # a customer's words are text, never markup
    await expect(results.get_by_text(HOSTILE, exact=True).first).to_be_visible()
    assert await results.locator("img, script, b").count() == 0
    assert await page.evaluate(UNNAMED_CONTROLS) == []

    # the page's own box has the focus; ↓ and ↑ walk the results, Tab goes on from one
    find = page.get_by_role("searchbox", name="Find conversations, tickets and customers")
    await expect(find).to_be_focused()
    await expect(find).to_have_value("kettle")
    links = results.locator("a")
    await page.keyboard.press("ArrowDown")
    await expect(links.nth(0)).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(links.nth(1)).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("ArrowUp")
    await expect(find).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Tab")
    await expect(links.nth(1)).to_be_focused()
    ticket = results.get_by_role("link", name=re.compile("#1 Kettle leaks"))
    await ticket.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/app/tickets/[0-9a-f]{24}$"))

    await page.go_back()
    await page.get_by_role("link", name="See all in Tickets").click()
    await expect(page).to_have_url(re.compile(r"/app/tickets\?q=kettle$"))
    await expect(page.get_by_role("searchbox", name="Number or subject")).to_have_value("kettle")
    await expect(page.locator("#ticket-rows tr")).to_have_count(1)

    await page.go_back()
    await page.get_by_role("link", name="See all in the inbox").click()
    await expect(page).to_have_url(re.compile(r"/app\?q=kettle&status=any$"))
    filters = page.locator("#filters")
    await expect(filters.get_by_role("searchbox", name="Search")).to_have_value("kettle")
    await expect(filters.get_by_label("Status")).to_have_value("any")
    conversations = page.get_by_role("list", name="Conversations")
    await expect(conversations.get_by_role("listitem")).to_have_count(2)


async def test_in_chinese_with_nothing_found_and_see_all_in_contacts(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("root@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/contacts")
    await page.get_by_role("button", name="Root的账户菜单").click()
    box = page.get_by_role("searchbox", name="查找会话、工单和客户")
    await box.fill("kettle")
    await box.press("Enter")
    await expect(heading(page, "会话（3）")).to_be_visible()  # the admin sees every team's
    await expect(heading(page, "工单（1）")).to_be_visible()
    await expect(heading(page, "客户（1）")).to_be_visible()
    await expect(page.get_by_role("status")).to_have_text("“kettle”的结果")
    await page.get_by_role("link", name="在联系人中查看全部").click()
    await expect(page).to_have_url(re.compile(r"/app/contacts\?q=kettle$"))
    await expect(page.locator("#contact-filters input[name=q]")).to_have_value("kettle")
    await expect(page.locator("#contacts tr")).to_have_count(1)

    await page.goto(live.url + "/app/search?q=" + "不存在的东西")
    await expect(page.get_by_role("status")).to_have_text(
        "没有找到与“不存在的东西”相关的内容。请换个说法。"
    )
    await expect(heading(page, "工单（0）")).to_be_visible()
    await expect(page.get_by_text("没有找到。")).to_have_count(3)

    # "#1" names ticket 1: only tickets are searched, and the other groups say so
    await page.goto(live.url + "/app/search?q=%231")
    await expect(page.get_by_role("status")).to_have_text(
        "“#1”是工单编号，只查找工单。去掉“#”查找 1，也会查找会话和客户。"
    )
    await expect(heading(page, "工单（1）")).to_be_visible()
    await expect(heading(page, "会话")).to_be_visible()
    await expect(heading(page, "客户")).to_be_visible()
    await expect(page.get_by_text("按工单编号查找时不查找此项。")).to_have_count(2)
    await page.keyboard.press("ArrowDown")  # the one result, by keyboard
    await expect(page.get_by_role("link", name=re.compile("#1 Kettle leaks"))).to_be_focused()
