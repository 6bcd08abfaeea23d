"""The customer's orders beside a ticket (`/app/tickets/{id}`) and on their Contacts page
(`/app/contacts/{id}`), drawn and moved by the inbox panel's own section (orders_panel.js), in
English and in Chinese, by keyboard: shipped with a tracking number from the ticket, refunded
and cancelled through the page's confirmation; customer text as text; a marketer reads them
and is offered no move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from kith.orders.actions import do_create_order
from kith.orders.models import OrderIn
from kith.tickets.actions import do_create_ticket
from kith.tickets.models import TicketIn
from tests.support.browser import EXPECT_TIMEOUT_MS, needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TEA = [{"sku": "TEA-LJ", "name": "Longjing tea", "quantity": 2, "unit_price": 1250}]
ODD = [{"sku": "TEA-X", "name": "<b>龙井</b>茶", "quantity": 1, "unit_price": 2500}]


async def seed(core: Core, workspace: Workspace) -> None:
    """Ada (English) has order #1, paid, and the ticket "Order #1042 has not arrived";
    李雷 (Chinese) has order #2, pending, of an item named in markup, and the ticket 退货.
    Alice's team has their channel; Bob's team none."""
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    people = (
        ("u-ada", "Ada Lovelace", "en-GB", "Where is my tea?", "Order #1042 has not arrived", TEA),
        ("u-li", "李雷", "zh-CN", "退货", "退货", ODD),
    )
    for n, (user_id, name, locale, text, subject, items) in enumerate(people):
        user = InboundUser(id=user_id, name=name, locale=locale)
        message = InboundMessage.on(channel, channel_message_id=f"m{n}", user=user, text=text)
        conversation = (await ingest(core, channel, message)).conversation
        status = "paid" if n == 0 else "pending"
        body = {"conversation_id": conversation.id, "currency": "CNY", "items": items}
        await do_create_order(
            core, workspace.id, OrderIn.model_validate({**body, "status": status})
        )
        ticket = TicketIn(subject=subject, conversation_id=conversation.id)
        await do_create_ticket(core, workspace.id, ticket)
    team = await create_team(core, workspace.id, "Sales", [channel.id])
    alice = await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent
    )
    await add_member(core, workspace.id, team.id, alice.id)
    await create_user(core, workspace.id, "mia@kith.test", PASSWORD, name="Mia", role=Role.marketer)
    elsewhere = await create_team(core, workspace.id, "Elsewhere", [])
    bob = await create_user(
        core, workspace.id, "bob@kith.test", PASSWORD, name="Bob", role=Role.agent
    )
    await add_member(core, workspace.id, elsewhere.id, bob.id)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def ids(live: Live, subject: str) -> tuple[str, str]:
    """The ticket's id and its customer's."""
    doc = await live.core.store.collection("tickets").find_one({"subject": subject})
    assert doc is not None
    return str(doc["_id"]), str(doc["customer_id"])


async def test_ship_beside_the_ticket_and_refund_on_the_customer_page_in_english(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    ticket, customer = await ids(live, "Order #1042 has not arrived")
    page = await live.sign_in("alice@kith.test")
    await page.goto(live.url + f"/app/tickets/{ticket}")
    orders = page.get_by_role("region", name="Orders", exact=True)
    order = orders.get_by_role("listitem").filter(has_text="Order #1")
    await expect(order).to_contain_text("paid · 25.00 CNY", timeout=EXPECT_TIMEOUT_MS)
    await expect(order).to_contain_text("Longjing tea × 2")
    await expect(order.get_by_role("button")).to_have_text(["Mark shipped", "Refund"])
    await expect(orders.get_by_text("New order")).to_be_visible()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await assert_every_control_is_named(page)

    ship = order.get_by_role("button", name="Mark shipped #1")
    await ship.focus()
    await page.keyboard.press("Enter")
    tracking = order.get_by_role("form", name="Ship order #1").get_by_label(
        "Tracking number (optional)"
    )
    await expect(tracking).to_be_focused()
    await page.keyboard.type("SF1234567")
    await page.keyboard.press("Tab")
    await page.keyboard.type("SF Express")
    await page.keyboard.press("Enter")
    await expect(orders.get_by_role("status")).to_have_text("Order #1 is now shipped.")
    await expect(order).to_contain_text("shipped · 25.00 CNY")
    await expect(order).to_contain_text("Tracking number: SF1234567 (SF Express)")
    await expect(order).to_be_focused()
    await keep_screenshot(page, "ticket-orders-en.png", tmp_path)

    await page.goto(live.url + f"/app/contacts/{customer}")
    orders = page.get_by_role("region", name="Orders", exact=True)
    order = orders.get_by_role("listitem").filter(has_text="Order #1")
    await expect(order).to_contain_text("shipped · 25.00 CNY", timeout=EXPECT_TIMEOUT_MS)
    await expect(order).to_contain_text("Tracking number: SF1234567 (SF Express)")
    refund = order.get_by_role("button", name="Refund #1")
    await refund.focus()
    await page.keyboard.press("Enter")
    reason = order.get_by_role("form", name="Refund order #1").get_by_label(
        "Reason (optional, for the team)"
    )
    await expect(reason).to_be_focused()
    await page.keyboard.type("Lost <i>in transit</i>")
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Refund 25.00 CNY on order #1? The customer will be told.")
    await page.keyboard.press("Tab")
    await expect(dialog.get_by_role("button", name="Confirm")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(orders.get_by_role("status")).to_have_text("Order #1 is now refunded.")
    await expect(order).to_contain_text("Reason: Lost <i>in transit</i>")
    await expect(order.locator("i")).to_have_count(0)
    await expect(order.get_by_role("button")).to_have_count(0)
    await assert_every_control_is_named(page)
    await keep_screenshot(page, "contact-orders-en.png", tmp_path)
    stored = await live.core.store.collection("orders").find_one({"number": 1})
    assert stored is not None
    assert stored["status"] == "refunded"
    assert stored["shipping"]["tracking_number"] == "SF1234567"


async def test_orders_on_the_ticket_and_customer_pages_in_chinese(live: Live) -> None:
    from playwright.async_api import expect

    ticket, customer = await ids(live, "退货")
    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.goto(live.url + f"/app/tickets/{ticket}")
    orders = page.get_by_role("region", name="订单", exact=True)
    order = orders.get_by_role("listitem").filter(has_text="订单 #2")
    await expect(order).to_contain_text("待付款 · 25.00 CNY", timeout=EXPECT_TIMEOUT_MS)
    await expect(order).to_contain_text("<b>龙井</b>茶 × 1")  # the shop's text, as text
    await expect(order.locator("b")).to_have_count(0)
    await expect(order.get_by_role("button")).to_have_text(["标记为已付款", "取消订单"])
    await expect(orders.get_by_text("新建订单")).to_be_visible()

    await page.goto(live.url + f"/app/contacts/{customer}")
    orders = page.get_by_role("region", name="订单", exact=True)
    order = orders.get_by_role("listitem").filter(has_text="订单 #2")
    cancel = order.get_by_role("button", name="取消订单 #2")
    await cancel.focus()
    await page.keyboard.press("Enter")
    await expect(order.get_by_label("原因（选填，仅团队可见）")).to_be_focused()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("确认取消订单 #2（25.00 CNY）？客户将收到通知。")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(orders.get_by_role("status")).to_have_text("订单 #2 已更新为「已取消」。")
    await expect(order).to_contain_text("已取消 · 25.00 CNY")
    await assert_every_control_is_named(page)


async def test_a_marketer_reads_the_customers_orders_without_moves(live: Live) -> None:
    from playwright.async_api import expect

    _, customer = await ids(live, "Order #1042 has not arrived")
    page = await live.sign_in("mia@kith.test")
    await page.goto(live.url + f"/app/contacts/{customer}")
    orders = page.get_by_role("region", name="Orders", exact=True)
    order = orders.get_by_role("listitem").filter(has_text="Order #1")
    await expect(order).to_contain_text("paid · 25.00 CNY", timeout=EXPECT_TIMEOUT_MS)
    await expect(orders.get_by_role("button")).to_have_count(0)
    await expect(orders.get_by_text("New order")).to_have_count(0)


async def test_an_agent_of_another_team_sees_the_ticket_but_no_orders(live: Live) -> None:
    """The ticket handed to Bob's team is his to see; its customer talks to no channel of his
    teams, so their orders are not his (the API's 403), as they have no panel in his inbox."""
    from playwright.async_api import expect

    ticket, _ = await ids(live, "Order #1042 has not arrived")
    team = await live.core.store.collection("teams").find_one({"name": "Elsewhere"})
    assert team is not None
    await live.core.store.collection("tickets").update_one(
        {"_id": ticket}, {"$set": {"team_id": team["_id"]}}
    )
    page = await live.sign_in("bob@kith.test")
    await page.goto(live.url + f"/app/tickets/{ticket}")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.locator("#orders-panel")).to_have_attribute("hidden", "")
    await expect(page.locator(".order")).to_have_count(0)
