"""Shipping, refunding and cancelling from the inbox's Orders panel, by keyboard, in English and
in Chinese: Mark shipped opens a small labelled form (tracking number and carrier); Refund and
Cancel order ask for an optional reason, then confirm in the page's dialog naming the order
and its amount; the server's refusals are marked at the form's fields; the customer is told
in their language."""

from __future__ import annotations

import re
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
from kith.orders.actions import do_create_order, do_move_order
from kith.orders.models import OrderIn, OrderStatus
from tests.support.browser import EXPECT_TIMEOUT_MS, needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TEA = [{"sku": "TEA-LJ", "name": "Longjing tea", "quantity": 2, "unit_price": 1250}]


async def seed(core: Core, workspace: Workspace) -> None:
    """Ada (English) has order #1, paid; 李雷 (Chinese) has #2 pending and #3 paid."""
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    people = (
        ("u-ada", "Ada Lovelace", "en-GB", "Where is my tea?"),
        ("u-li", "李雷", "zh-CN", "退货"),
    )
    for n, (user_id, name, locale, text) in enumerate(people):
        user = InboundUser(id=user_id, name=name, locale=locale)
        message = InboundMessage.on(channel, channel_message_id=f"m{n}", user=user, text=text)
        conversation = (await ingest(core, channel, message)).conversation
        statuses = ["paid"] if n == 0 else ["pending", "paid"]
        for status in statuses:
            body = {"conversation_id": conversation.id, "currency": "CNY", "items": TEA}
            await do_create_order(
                core, workspace.id, OrderIn.model_validate({**body, "status": status})
            )
    team = await create_team(core, workspace.id, "Sales", [channel.id])
    alice = await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent
    )
    await add_member(core, workspace.id, team.id, alice.id)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_ship_with_tracking_then_refund_by_keyboard_in_english(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.get_by_role("button", name=re.compile("Ada Lovelace")).click()
    panel = page.get_by_role("region", name="Orders", exact=True)
    order = panel.get_by_role("listitem").filter(has_text="Order #1")
    await expect(order).to_contain_text("paid · 25.00 CNY")
    # Only the moves a paid order has: no Mark paid, no Cancel.
    await expect(order.get_by_role("button")).to_have_text(["Mark shipped", "Refund"])

    ship = order.get_by_role("button", name="Mark shipped #1")
    await ship.focus()
    await page.keyboard.press("Enter")
    await expect(ship).to_have_attribute("aria-expanded", "true")
    form = order.get_by_role("form", name="Ship order #1")
    tracking = form.get_by_label("Tracking number (optional)")
    await expect(tracking).to_be_focused()
    # Longer than the server takes (the input's own limit lifted): the server's refusal is
    # marked at the field, which keeps the focus.
    await tracking.evaluate("(input) => input.removeAttribute('maxlength')")
    await page.keyboard.type("S" * 101)
    await page.keyboard.press("Tab")
    await expect(form.get_by_label("Carrier (optional)")).to_be_focused()
    await page.keyboard.type("SF Express")
    await page.keyboard.press("Enter")
    await expect(tracking).to_have_attribute("aria-invalid", "true", timeout=EXPECT_TIMEOUT_MS)
    await expect(tracking).to_be_focused()
    await expect(form).to_contain_text("Must be at most 100 characters.")
    await expect(order).to_contain_text("paid · 25.00 CNY")
    await tracking.fill("")
    await page.keyboard.type("SF1234567")
    await page.keyboard.press("Enter")
    await expect(panel.get_by_role("status")).to_have_text("Order #1 is now shipped.")
    await expect(order).to_contain_text("shipped · 25.00 CNY")
    await expect(order).to_contain_text("Tracking number: SF1234567 (SF Express)")
    await expect(order).to_be_focused()  # the order's line, as it is now
    messages = page.get_by_role("list", name="Messages")
    await expect(
        messages.get_by_text(
            "Your order #1 is on its way with SF Express. Tracking number: SF1234567."
        )
    ).to_be_visible(timeout=EXPECT_TIMEOUT_MS)

    refund = order.get_by_role("button", name="Refund #1")
    await refund.focus()
    await page.keyboard.press("Enter")
    reason = order.get_by_role("form", name="Refund order #1").get_by_label(
        "Reason (optional, for the team)"
    )
    await expect(reason).to_be_focused()
    await page.keyboard.type("Tea <b>arrived</b> damp")
    # the shipping notice's own redraw of the panel may land while typing: the form and its
    # text survive it, and Enter goes to the field as it is then
    await expect(reason).to_have_value("Tea <b>arrived</b> damp")
    await page.keyboard.press("Tab")  # to the form's Refund button
    submit = order.get_by_role("form", name="Refund order #1").get_by_role("button", name="Refund")
    await expect(submit).to_be_focused()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Refund 25.00 CNY on order #1? The customer will be told.")
    await assert_every_control_is_named(page)
    await keep_screenshot(page, "inbox-order-refund.png", tmp_path)
    await page.keyboard.press("Escape")  # changed their mind: nothing happens
    await expect(dialog).to_be_hidden()
    await expect(order).to_contain_text("shipped · 25.00 CNY")
    # Focus is back in the reason field once the dialog's close is handled: an Enter pressed
    # before that lands on the page, where it does nothing (the form's button is busy till then).
    await expect(reason).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await page.keyboard.press("Tab")  # from Cancel to Confirm
    await expect(dialog.get_by_role("button", name="Confirm")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(panel.get_by_role("status")).to_have_text("Order #1 is now refunded.")
    await expect(order).to_contain_text("refunded · 25.00 CNY")
    await expect(order).to_contain_text("Reason: Tea <b>arrived</b> damp")  # text, never markup
    await expect(order.get_by_role("button")).to_have_count(0)  # nothing follows a refund
    await expect(
        messages.get_by_text(
            "We have refunded 25.00 CNY for your order #1. "
            "It may take a few days to reach your account."
        )
    ).to_be_visible(timeout=EXPECT_TIMEOUT_MS)
    stored = await live.core.store.collection("orders").find_one({"number": 1})
    assert stored is not None
    assert stored["history"][-1]["reason"] == "Tea <b>arrived</b> damp"


async def test_cancel_and_refund_by_keyboard_in_chinese(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.get_by_role("button", name=re.compile("李雷")).click()
    panel = page.get_by_role("region", name="订单", exact=True)
    pending = panel.get_by_role("listitem").filter(has_text="订单 #2")
    paid = panel.get_by_role("listitem").filter(has_text="订单 #3")
    await expect(pending.get_by_role("button")).to_have_text(["标记为已付款", "取消订单"])
    await expect(paid.get_by_role("button")).to_have_text(["标记为已发货", "退款"])

    cancel = pending.get_by_role("button", name="取消订单 #2")
    await cancel.focus()
    await page.keyboard.press("Enter")
    await expect(pending.get_by_label("原因（选填，仅团队可见）")).to_be_focused()
    await page.keyboard.press("Escape")  # Escape closes the form, back on its button
    await expect(cancel).to_be_focused()
    await expect(cancel).to_have_attribute("aria-expanded", "false")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Enter")  # no reason
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("确认取消订单 #2（25.00 CNY）？客户将收到通知。")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(panel.get_by_role("status")).to_have_text("订单 #2 已更新为「已取消」。")
    await expect(pending).to_contain_text("已取消 · 25.00 CNY")

    refund = paid.get_by_role("button", name="退款 #3")
    await refund.focus()
    await page.keyboard.press("Enter")
    await page.keyboard.type("茶叶受潮")
    await page.keyboard.press("Enter")
    await expect(dialog).to_contain_text("确认为订单 #3 退款 25.00 CNY？客户将收到通知。")
    # Meanwhile the shop refunds it: confirming is refused, and the panel says how it is now.
    third = await live.core.store.collection("orders").find_one({"number": 3})
    assert third is not None
    await do_move_order(live.core, third["workspace_id"], third["_id"], OrderStatus.refunded)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(panel.get_by_role("status")).to_have_text(
        "订单 #3 已被他人更新，现为「已退款」。", timeout=EXPECT_TIMEOUT_MS
    )
    await expect(paid).to_contain_text("已退款 · 25.00 CNY")
    messages = page.get_by_role("list", name="消息")
    await expect(messages.get_by_text("您的订单 #2 已取消。")).to_be_visible(
        timeout=EXPECT_TIMEOUT_MS
    )
    await expect(
        messages.get_by_text("您的订单 #3 已退款 25.00 CNY，款项可能需要几个工作日到账。")
    ).to_have_count(1, timeout=EXPECT_TIMEOUT_MS)


OTHERS = "#identities li, #sentiments li, #conv-title .chan"
PANEL = f"#orders-panel li.order, {OTHERS}"
MARK_KEPT = f"document.querySelectorAll('{PANEL}').forEach((e) => {{ e.kithKept = true; }})"
OTHERS_KEPT = f"[...document.querySelectorAll('{OTHERS}')].every((e) => e.kithKept)"
KEPT = """Object.fromEntries([...document.querySelectorAll('#orders-panel li.order')].map(
  (li) => [li.querySelector('strong').textContent, li.kithKept === true]))"""


async def test_orders_drawn_as_before_stay_as_the_customer_changes(live: Live) -> None:
    """A change to the customer (another order moved, one added) redraws the panel: the
    orders unchanged stay the elements they were, so text an agent selected in one stays
    selected, and an open form keeps what was typed and focus. The customer's identities and
    sentiments and the conversation's title, unchanged, stay too."""
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.get_by_role("button", name=re.compile("李雷")).click()
    panel = page.get_by_role("region", name="Orders", exact=True)
    pending = panel.get_by_role("listitem").filter(has_text="Order #2")
    paid = panel.get_by_role("listitem").filter(has_text="Order #3")
    await expect(paid.get_by_role("button")).to_have_text(["Mark shipped", "Refund"])
    await page.evaluate(MARK_KEPT)
    await paid.locator(".order-items").click(click_count=3)
    assert (await page.evaluate("getSelection().toString()")).strip() == "Longjing tea × 2"

    orders = live.core.store.collection("orders")
    second = await orders.find_one({"number": 2})
    assert second is not None
    workspace_id = second["workspace_id"]
    await do_move_order(live.core, workspace_id, second["_id"], OrderStatus.cancelled)
    await expect(pending).to_contain_text("cancelled · 25.00 CNY", timeout=EXPECT_TIMEOUT_MS)
    assert await page.evaluate(KEPT) == {"Order #2": False, "Order #3": True}
    notice = page.get_by_role("list", name="Messages").get_by_text("您的订单 #2 已取消。")
    await expect(notice).to_be_visible(timeout=EXPECT_TIMEOUT_MS)  # the conversation redrawn
    assert await page.evaluate(OTHERS_KEPT)
    assert (await page.evaluate("getSelection().toString()")).strip() == "Longjing tea × 2"

    await paid.get_by_role("button", name="Mark shipped #3").click()
    tracking = paid.get_by_label("Tracking number (optional)")
    await expect(tracking).to_be_focused()
    await page.keyboard.type("SF99")
    body = {"conversation_id": second["conversation_id"], "currency": "CNY", "items": TEA}
    await do_create_order(live.core, workspace_id, OrderIn.model_validate(body))
    await expect(panel.get_by_role("listitem").filter(has_text="Order #4")).to_be_visible(
        timeout=EXPECT_TIMEOUT_MS
    )
    assert await page.evaluate(KEPT) == {"Order #2": False, "Order #3": True, "Order #4": False}
    await expect(tracking).to_have_value("SF99")
    await expect(tracking).to_be_focused()
    await expect(paid.get_by_role("button", name="Mark shipped #3")).to_have_attribute(
        "aria-expanded", "true"
    )
    await page.keyboard.press("Enter")
    await expect(panel.get_by_role("status")).to_have_text("Order #3 is now shipped.")
    await expect(paid).to_contain_text("Tracking number: SF99")


async def test_an_order_the_shop_moves_is_shown_moved_at_once(live: Live) -> None:
    """A move that leaves the customer's figures as they were (paid to shipped) changes no
    customer: the panel follows the order's own event."""
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.get_by_role("button", name=re.compile("Ada Lovelace")).click()
    order = page.get_by_role("region", name="Orders", exact=True).get_by_role("listitem")
    await expect(order).to_contain_text("Order #1 · paid · 25.00 CNY")
    first = await live.core.store.collection("orders").find_one({"number": 1})
    assert first is not None
    await do_move_order(live.core, first["workspace_id"], first["_id"], OrderStatus.shipped)
    await expect(order).to_contain_text("Order #1 · shipped", timeout=EXPECT_TIMEOUT_MS)
