"""Customers are told when their order is paid, shipped (with the tracking number) or
delivered: once, in their language, on their channel; outside WeChat's 48-hour window the
notice is skipped with the reason on the order and a note for the agents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Conversation, Event, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.orders.actions import do_move_order, do_update_shipping
from kith.orders.models import OrderStatus, Shipping
from kith.orders.notices import consume, message_id
from kith.orders.store import get_order
from tests.orders.conftest import MakeOrder
from tests.support.consumers import drain

Talk = Callable[..., Awaitable[Conversation]]


async def told(shop: Core, conversation: Conversation) -> list[str]:
    docs = (
        await shop.store.messages.find({"conversation_id": conversation.id, "direction": "out"})
        .sort("created_at", 1)
        .to_list(None)
    )
    return [d["text"] for d in docs]


async def test_each_notice_goes_once_in_the_customers_language(
    shop: Core, workspace_id: str, talk: Talk, make_order: MakeOrder, clock: ManualClock
) -> None:
    li = await talk("li", "我要买茶")  # locale zh-CN
    order = await make_order(li)
    await do_move_order(shop, workspace_id, order.id, OrderStatus.paid)
    await drain(shop)
    clock.advance(60)
    await do_move_order(
        shop,
        workspace_id,
        order.id,
        OrderStatus.shipped,
        shipping=Shipping(carrier="顺丰", tracking_number="SF123456"),
    )
    await drain(shop)
    await drain(shop)  # nothing left: a second pass sends nothing
    assert await told(shop, li) == [
        f"感谢您的付款！订单 #{order.number} 已收到 25.00 CNY。",
        f"您的订单 #{order.number} 已发货（顺丰），运单号：SF123456。",
    ]
    stored = await get_order(shop, workspace_id, order.id)
    assert [(n.status, n.outcome) for n in stored.notices] == [
        ("paid", "queued"),
        ("shipped", "queued"),
    ]
    assert stored.notices[1].message_id == message_id(order.id, OrderStatus.shipped)
    # As if the consumer had died after sending, before noting it: run again, nothing is sent.
    await shop.store.collection("orders").update_one({"_id": order.id}, {"$set": {"notices": []}})
    events = await shop.store.events.find({"type": "order.updated"}).to_list(None)
    for event in events:
        await consume(shop, Event.from_doc(event))
    assert len(await told(shop, li)) == 2


async def test_english_by_default_and_on_the_latest_conversation(
    shop: Core, workspace_id: str, talk: Talk, make_order: MakeOrder, clock: ManualClock
) -> None:
    ada = await talk("ada")
    order = await make_order(ada, conversation_id=None, customer_id=ada.customer_id)
    for status in (OrderStatus.paid, OrderStatus.shipped, OrderStatus.delivered):
        clock.advance(60)
        await do_move_order(shop, workspace_id, order.id, status)
        await drain(shop)
    assert await told(shop, ada) == [
        f"Thank you! We received your payment of 25.00 CNY for order #{order.number}.",
        f"Your order #{order.number} is on its way. Tracking number: to follow.",
        f"Your order #{order.number} has been delivered. Enjoy!",
    ]


async def test_outside_the_wechat_window_the_notice_is_skipped_and_recorded(
    shop: Core, workspace_id: str, make_order: MakeOrder, clock: ManualClock
) -> None:
    config = {"app_id": "wx0123456789abcdef", "app_secret": "s" * 16, "token": "tok123"}
    wechat, _ = await create_channel(shop, workspace_id, "wechat", "Official account", config)
    received = await ingest(
        shop,
        wechat,
        InboundMessage.on(
            wechat, channel_message_id="w-1", user=InboundUser(id="o-li"), text="下单"
        ),
    )
    conversation = received.conversation
    order = await make_order(conversation)
    await do_move_order(shop, workspace_id, order.id, OrderStatus.paid)
    await drain(shop)
    clock.advance(timedelta(hours=49).total_seconds())
    await do_move_order(shop, workspace_id, order.id, OrderStatus.shipped)
    await drain(shop)
    stored = await get_order(shop, workspace_id, order.id)
    assert [(n.status, n.outcome, n.reason) for n in stored.notices] == [
        ("paid", "queued", None),
        ("shipped", "skipped", "wechat_window_closed"),
    ]
    notes = await shop.store.messages.find(
        {"conversation_id": conversation.id, "private": True}
    ).to_list(None)
    assert [n["text"] for n in notes] == [
        f"Order #{order.number} is shipped, but the customer was not told: wechat window closed."
    ]
    # each agent's inbox words it in their language ("订单 #1 已更新为「已发货」…")
    assert notes[0]["wording"] == {
        "key": "order_not_told",
        "values": {"number": order.number},
        "terms": {
            "reason": "orders_reason_wechat_window_closed",
            "status": "orders_status_shipped",
        },
    }
    sent = await shop.store.messages.count_documents(
        {"conversation_id": conversation.id, "direction": "out", "private": False}
    )
    assert sent == 1  # the paid notice, inside the window


async def test_a_customer_without_a_locale_is_told_in_the_language_they_write(
    shop: Core, workspace_id: str, talk: Talk, make_order: MakeOrder
) -> None:
    """Grace has no locale on her profile (the API channel sends none) and wrote in Chinese:
    she is told in Chinese, as her satisfaction survey asks her (`kith.core.languages`)."""
    grace = await talk("grace", "我的订单什么时候发货？")
    shipping = {"carrier": "顺丰", "tracking_number": "SF1"}
    order = await make_order(grace, status="paid", shipping=shipping)
    await do_move_order(shop, workspace_id, order.id, OrderStatus.shipped)
    await drain(shop)
    said = await told(shop, grace)
    assert len(said) == 2 and all("订单" in text for text in said), said  # paid and shipped
    assert any("SF1" in text for text in said)


async def test_a_corrected_tracking_number_is_told_once(
    shop: Core, workspace_id: str, talk: Talk, make_order: MakeOrder, clock: ManualClock
) -> None:
    ada = await talk("ada")
    order = await make_order(ada)
    await do_update_shipping(shop, workspace_id, order.id, Shipping(tracking_number="SF111"))
    for status in (OrderStatus.paid, OrderStatus.shipped):
        clock.advance(60)
        await do_move_order(shop, workspace_id, order.id, status)
        await drain(shop)
    clock.advance(60)
    await do_update_shipping(shop, workspace_id, order.id, Shipping(tracking_number="SF777"))
    await do_update_shipping(shop, workspace_id, order.id, Shipping(address="1 Kettle Road"))
    await drain(shop)
    events = await shop.store.events.find({"type": "order.updated"}).to_list(None)
    for event in events:  # every event delivered again: nothing is said twice
        await consume(shop, Event.from_doc(event))
    assert await told(shop, ada) == [
        f"Thank you! We received your payment of 25.00 CNY for order #{order.number}.",
        f"Your order #{order.number} is on its way. Tracking number: SF111.",
        f"The tracking number of your order #{order.number} is now SF777.",
    ]
