"""Telling the customer: paid, shipped (with the tracking number), delivered, cancelled and
refunded, on their channel and in their language: the `order-notices` consumer. A cancellation
or a refund is told when the order moves there, not when a shop pushes an order already so.

The notice goes to the order's conversation, or the customer's most recent one, through the
outbox (`send()`), as a service message: consent for marketing does not apply, but the
channel's reply window does. Outside it (WeChat's 48 hours since the customer last wrote),
nothing is sent: the order records the notice as skipped with the reason, and the agents see
a private note in the conversation. The message id derives from (order, status), and the
notice is pushed once per status, so a redelivered event sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from kith.connectors.wechat.sender import WINDOW, last_interaction
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.ids import derived_id
from kith.core.languages import customer_language
from kith.core.models import Author, AuthorKind, Conversation, Event, OutboundContent, Wording
from kith.core.outbox import send
from kith.orders.models import ENDINGS, NOTIFIED, Notice, Order, OrderStatus, Source
from kith.orders.money import shown
from kith.orders.store import get_order, orders

TYPES = ("order.created", "order.updated")
AUTHOR = Author(kind=AuthorKind.system, name="orders")

TEMPLATES: dict[str, dict[OrderStatus, str]] = {
    "en": {
        OrderStatus.paid: "Thank you! We received your payment of {total} for order #{number}.",
        OrderStatus.shipped: "Your order #{number} is on its way{carrier}. "
        "Tracking number: {tracking}.",
        OrderStatus.delivered: "Your order #{number} has been delivered. Enjoy!",
        OrderStatus.cancelled: "Your order #{number} has been cancelled.",
        OrderStatus.refunded: "We have refunded {total} for your order #{number}. "
        "It may take a few days to reach your account.",
    },
    "zh": {
        OrderStatus.paid: "感谢您的付款！订单 #{number} 已收到 {total}。",
        OrderStatus.shipped: "您的订单 #{number} 已发货{carrier}，运单号：{tracking}。",
        OrderStatus.delivered: "您的订单 #{number} 已送达，祝您使用愉快！",
        OrderStatus.cancelled: "您的订单 #{number} 已取消。",
        OrderStatus.refunded: "您的订单 #{number} 已退款 {total}，款项可能需要几个工作日到账。",
    },
}
RETRACKED = {
    "en": "The tracking number of your order #{number} is now {tracking}{carrier}.",
    "zh": "您的订单 #{number} 运单号已更新{carrier}：{tracking}。",
}
CARRIER = {"en": " with {carrier}", "zh": "（{carrier}）"}
NO_TRACKING = {"en": "to follow", "zh": "稍后提供"}


def language(locale: str | None) -> str:
    """The customer's language among the templates' ("zh-CN" is zh); English otherwise."""
    base = (locale or "").split("-")[0].split("_")[0].lower()
    return base if base in TEMPLATES else "en"


def render(order: Order, locale: str | None, *, retracked: bool = False) -> str:
    """The notice of the order's status (or, `retracked`, of its new tracking number)."""
    lang = language(locale)
    carrier = order.shipping.carrier
    template = RETRACKED[lang] if retracked else TEMPLATES[lang][order.status]
    return template.format(
        number=order.number,
        total=shown(order.total, order.currency),
        carrier=CARRIER[lang].format(carrier=carrier) if carrier else "",
        tracking=order.shipping.tracking_number or NO_TRACKING[lang],
    )


def message_id(order_id: str, status: OrderStatus) -> str:
    return derived_id("order-notice", order_id, status.value)


async def consume(core: Core, event: Event) -> None:
    """The `order-notices` consumer."""
    data = event.data
    if data.get("tracking_number"):
        await _retracked(core, event.workspace_id, str(data["order_id"]), data["tracking_number"])
        return
    if not data.get("moved") or data.get("source") == Source.import_.value:
        return  # an imported history is not news to the customer
    status = OrderStatus(data["status"])
    if status not in NOTIFIED or (status in ENDINGS and event.type == "order.created"):
        return
    try:
        order = await get_order(core, event.workspace_id, str(data["order_id"]))
    except NotFound:
        return  # erased since
    if any(n.status == status for n in order.notices):
        return
    conversation = await _conversation(core, order)
    if conversation is None:
        await _remember(core, order, status, "skipped", reason="no_conversation")
        return
    moment = order.model_copy(update={"status": status})
    closed = await _window_closed(core, conversation)
    if closed:
        await _tell_agents(core, conversation, moment, closed)
        await _remember(core, order, status, "skipped", reason=closed, conversation=conversation)
        return
    text = render(moment, await customer_language(core, order.customer_id, conversation.id))
    sent = await send(
        core,
        conversation,
        OutboundContent(text=text),
        AUTHOR,
        message_id=message_id(order.id, status),
    )
    await _remember(core, order, status, "queued", message_id=sent.id, conversation=conversation)


async def _retracked(core: Core, workspace_id: str, order_id: str, tracking: str) -> None:
    """A shipped order's tracking number corrected: the customer has the wrong one. Once per
    number (the message id derives from it); outside the window, the agents are told."""
    try:
        order = await get_order(core, workspace_id, order_id)
    except NotFound:
        return
    conversation = await _conversation(core, order)
    if conversation is None or order.shipping.tracking_number != tracking:
        return  # nowhere to tell, or corrected again since: that change tells the newest
    closed = await _window_closed(core, conversation)
    if closed:
        await _tell_agents(core, conversation, order, closed, tracking)
        return
    language_ = await customer_language(core, order.customer_id, conversation.id)
    await send(
        core,
        conversation,
        OutboundContent(text=render(order, language_, retracked=True)),
        AUTHOR,
        message_id=derived_id("order-notice", order.id, "tracking", tracking),
    )


async def _conversation(core: Core, order: Order) -> Conversation | None:
    """The order's conversation while it is still this customer's, else their latest one."""
    query: dict[str, Any] = {"workspace_id": order.workspace_id, "customer_id": order.customer_id}
    if order.conversation_id is not None:
        doc = await core.store.conversations.find_one({**query, "_id": order.conversation_id})
        if doc is not None:
            return Conversation.from_doc(doc)
    doc = await core.store.conversations.find_one(query, sort=[("last_message_at", -1)])
    return Conversation.from_doc(doc) if doc is not None else None


async def _window_closed(core: Core, conversation: Conversation) -> str | None:
    """Why the channel would refuse a service message now (None: it may go)."""
    if conversation.channel_type != "wechat":
        return None
    channel = await get_channel(core, conversation.workspace_id, conversation.channel_id)
    since = await last_interaction(core, channel, conversation)
    return "wechat_window_closed" if core.clock.now() - since > WINDOW else None


async def _tell_agents(
    core: Core, conversation: Conversation, order: Order, reason: str, tracking: str = ""
) -> None:
    news = f"has a new tracking number, {tracking}" if tracking else f"is {order.status.value}"
    text = (
        f"Order #{order.number} {news}, but the customer was not told: {reason.replace('_', ' ')}."
    )
    key = ("tracking", tracking) if tracking else (order.status.value,)
    terms = {"reason": f"orders_reason_{reason}"}
    if tracking:
        wording = Wording(
            key="order_not_told_tracking",
            values={"number": order.number, "tracking": tracking},
            terms=terms,
        )
    else:
        terms["status"] = f"orders_status_{order.status.value}"
        wording = Wording(key="order_not_told", values={"number": order.number}, terms=terms)
    await send(
        core,
        conversation,
        OutboundContent(text=text, private=True),
        AUTHOR,
        message_id=derived_id("order-notice-note", order.id, *key),
        wording=wording,
    )


async def _remember(
    core: Core,
    order: Order,
    status: OrderStatus,
    outcome: str,
    *,
    reason: str | None = None,
    message_id: str | None = None,
    conversation: Conversation | None = None,
) -> None:
    notice = Notice(
        status=status,
        outcome=outcome,
        reason=reason,
        message_id=message_id,
        conversation_id=conversation.id if conversation else None,
        at=core.clock.now(),
    )
    await orders(core).update_one(
        {"_id": order.id, "notices.status": {"$ne": status.value}},
        {"$push": {"notices": notice.model_dump(mode="python")}},
    )
