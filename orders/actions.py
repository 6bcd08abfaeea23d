"""Writes on orders: create (idempotent on the shop's `external_id`), move along the allowed
statuses, change shipping. Each records `order.created` / `order.updated` (the customer and
conversation on the event, the order's id, number and status in its data) and brings the
customer's order figures up to date.

A move is one conditional update from the statuses that may reach the target, so two agents
moving one order at once cannot both win; a refused move answers 409 listing the allowed ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.customers import get_customer
from kith.core.errors import Conflict, InvalidInput, NotFound
from kith.core.events import SYSTEM, build_event, record
from kith.core.ids import derived_id, new_id
from kith.core.models import Author
from kith.core.transitions import move_status
from kith.orders import money, summary
from kith.orders.models import (
    MOVES,
    Item,
    Move,
    Order,
    OrderIn,
    OrderStatus,
    Shipping,
    Source,
)
from kith.orders.store import get_order, next_number, order_id, orders


def priced(body: OrderIn) -> tuple[list[Item], int, int]:
    """The items with their amounts, the subtotal and the total, each supplied figure checked
    (a 422 names the first that disagrees: `items.1.amount`, `total`)."""
    money.exponent(body.currency)
    items = []
    for i, item in enumerate(body.items):
        amount = money.line_amount(item.quantity, item.unit_price)
        if amount > money.MAX_AMOUNT:
            raise InvalidInput(
                "the item's amount is too large",
                field=f"items.{i}.quantity",
                reason="amount_too_large",
            )
        if item.amount is not None and item.amount != amount:
            raise _mismatch(f"items.{i}.amount", item.amount, amount)
        items.append(Item(**{**item.model_dump(), "amount": amount}))
    subtotal = sum(item.amount for item in items)
    total = subtotal + body.shipping_fee
    if body.total is not None and body.total != total:
        raise _mismatch("total", body.total, total)
    if total > money.MAX_AMOUNT:
        raise InvalidInput(
            "the order's total is too large", field="total", reason="total_too_large"
        )
    return items, subtotal, total


# How far ahead of Kith's clock a shop's `placed_at` may be (clocks that disagree a little):
# an order dated later would sort first for years and skew `orders.last_at` in segments.
PLACED_AHEAD = timedelta(days=1)


def _placed_at(body: OrderIn, now: datetime) -> datetime:
    """The order's date, in UTC (what the listings sort by): the shop's own, else now; a
    date more than `PLACED_AHEAD` ahead of now is refused (422 on `placed_at`)."""
    if body.placed_at is None:
        return now
    latest = now + PLACED_AHEAD
    if body.placed_at > latest:
        raise InvalidInput(
            "placed_at is in the future",
            field="placed_at",
            reason="placed_in_future",
            limits={"latest": latest.isoformat()},
        )
    return body.placed_at.astimezone(UTC)


def _mismatch(field: str, given: int, computed: int) -> InvalidInput:
    return InvalidInput(
        f"{field} is {given} but the items make {computed}",
        field=field,
        reason="total_mismatch",
        limits={"given": given, "computed": computed},
    )


async def do_create_order(
    core: Core,
    workspace_id: str,
    body: OrderIn,
    actor: Author = SYSTEM,
    source: Source = Source.api,
) -> tuple[Order, bool]:
    """The new order and True; or, for an `external_id` already used in the workspace with
    the same contents, the existing order and False (nothing written, no event); other
    contents under a used `external_id` are a 409 on it."""
    oid = order_id(workspace_id, body.external_id)
    items, subtotal, total = priced(body)
    now = core.clock.now()
    placed_at = _placed_at(body, now)
    if body.external_id is not None:
        existing = await orders(core).find_one({"_id": oid, "workspace_id": workspace_id})
        if existing is not None:
            return await _repeated(core, Order.from_doc(existing), body, items, actor), False
    customer_id, conversation_id = await _whose(core, workspace_id, body)
    order = Order(
        id=oid,
        workspace_id=workspace_id,
        number=await next_number(core, workspace_id),
        customer_id=customer_id,
        conversation_id=conversation_id,
        external_id=body.external_id,
        currency=body.currency,
        items=items,
        subtotal=subtotal,
        shipping_fee=body.shipping_fee,
        total=total,
        status=body.status,
        history=[Move(status=body.status, at=now, by=actor)],
        shipping=body.shipping or Shipping(),
        source=body.source or source,
        placed_at=placed_at,
        created_at=now,
        updated_at=now,
    )
    try:
        await orders(core).insert_one(order.to_doc())
    except DuplicateKeyError:
        if body.external_id is None:
            raise
        won = await get_order(core, workspace_id, oid)  # a racing create of the same order
        return await _repeated(core, won, body, items, actor), False
    return await _settled(core, order, actor), True


async def _repeated(
    core: Core, order: Order, body: OrderIn, items: list[Item], actor: Author
) -> Order:
    """A push of an `external_id` already used: the same order again (a retry) answers it;
    other contents under that id are refused, as an idempotency key reused for another
    request is, rather than answered with an order that is not the one sent."""
    differs = _differences(order, body, items)
    if differs:
        raise Conflict(
            f"external_id {body.external_id!r} is order {order.number}, which has other "
            f"{', '.join(differs)}",
            field="external_id",
            reason="external_id_reused",
            limits={"order_id": order.id, "number": order.number, "differs": differs},
        )
    return await _settled(core, order, actor)


def _differences(order: Order, body: OrderIn, items: list[Item]) -> list[str]:
    """What of a repeated push differs from the stored order; the status may have moved on
    since and a retry may name the customer or the conversation alone."""
    given = {
        "currency": (order.currency, body.currency),
        "items": (order.items, items),
        "shipping_fee": (order.shipping_fee, body.shipping_fee),
        "customer_id": (order.customer_id, body.customer_id or order.customer_id),
        "conversation_id": (order.conversation_id, body.conversation_id or order.conversation_id),
    }
    return [name for name, (stored, sent) in given.items() if stored != sent]


async def _settled(core: Core, order: Order, actor: Author) -> Order:
    """The creation's event and the customer's figures; a repeat finishes what a create cut
    short did not (the event's id is the order's, so it is recorded once)."""
    await _note(core, order, "order.created", actor, moved=True)
    await summary.refresh(core, order.workspace_id, order.customer_id)
    return order


async def _whose(core: Core, workspace_id: str, body: OrderIn) -> tuple[str, str | None]:
    """The order's customer and conversation: a conversation names its customer; both given
    must agree."""
    if body.conversation_id is None:
        assert body.customer_id is not None
        return (await get_customer(core, workspace_id, body.customer_id)).id, None
    conversation = await get_conversation(core, workspace_id, body.conversation_id)
    if body.customer_id is not None and body.customer_id != conversation.customer_id:
        raise InvalidInput(
            "that conversation is another customer's",
            field="conversation_id",
            reason="another_customers_conversation",
        )
    await get_customer(core, workspace_id, conversation.customer_id)
    return conversation.customer_id, conversation.id


async def do_move_order(
    core: Core,
    workspace_id: str,
    order_id_: str,
    to: OrderStatus,
    actor: Author = SYSTEM,
    shipping: Shipping | None = None,
    reason: str | None = None,
) -> Order:
    """Move the order to `to` (with shipping details, say the tracking number when shipped,
    and why: a refund's or a cancellation's `reason`, kept on the move and named on the
    event); 409 listing the allowed statuses when `to` cannot follow the current one."""
    now = core.clock.now()
    why = (reason or "").strip() or None
    move = Move(status=to, at=now, by=actor, reason=why)
    change: dict[str, Any] = {
        "$set": {"status": to.value, "updated_at": now, **_shipping_fields(shipping)},
        "$push": {"history": move.model_dump(mode="python")},
    }
    doc = await move_status(
        orders(core),
        {"_id": order_id_, "workspace_id": workspace_id},
        MOVES,
        to,
        change,
        noun="order",
        missing=NotFound("no such order", field="order_id"),
    )
    order = Order.from_doc(doc)
    await _note(core, order, "order.updated", actor, moved=True, **({"reason": why} if why else {}))
    await summary.refresh(core, workspace_id, order.customer_id)
    return order


async def do_update_shipping(
    core: Core, workspace_id: str, order_id_: str, shipping: Shipping, actor: Author = SYSTEM
) -> Order:
    """Change the address, carrier or tracking number (the fields given; null clears one).
    A new tracking number on an order already shipped is news to the customer: the event
    names it (`tracking_number`) and the notices consumer tells them."""
    fields = _shipping_fields(shipping)
    if not fields:
        return await get_order(core, workspace_id, order_id_)
    now = core.clock.now()
    doc = await orders(core).find_one_and_update(
        {"_id": order_id_, "workspace_id": workspace_id},
        {"$set": {**fields, "updated_at": now}},
        return_document=ReturnDocument.BEFORE,
    )
    if doc is None:
        await get_order(core, workspace_id, order_id_)  # 404
    before = Order.from_doc(doc)
    given = shipping.model_dump(exclude_unset=True)
    order = before.model_copy(
        update={"shipping": before.shipping.model_copy(update=given), "updated_at": now}
    )
    tracking = order.shipping.tracking_number
    news: dict[str, str] = {}
    if tracking and tracking != before.shipping.tracking_number:
        if order.status == OrderStatus.shipped:
            news["tracking_number"] = tracking
    await _note(core, order, "order.updated", actor, moved=False, **news)
    return order


def _shipping_fields(shipping: Shipping | None) -> dict[str, Any]:
    if shipping is None:
        return {}
    given = shipping.model_dump(exclude_unset=True)
    return {f"shipping.{key}": value for key, value in given.items()}


async def _note(
    core: Core, order: Order, kind: str, actor: Author, *, moved: bool, **news: str
) -> None:
    """`moved`: the status changed with this event (the notices consumer tells the customer).
    The creation's and each move's event id derive from the order (and the move's place in
    the history), so a repeat records nothing twice."""
    step = "created" if kind == "order.created" else str(len(order.history)) if moved else new_id()
    data: dict[str, Any] = {
        "order_id": order.id,
        "number": order.number,
        "status": order.status.value,
        "moved": moved,
        "source": order.source.value,
        **news,
    }
    event = build_event(
        core,
        order.workspace_id,
        kind,
        actor=actor,
        event_id=derived_id("order-event", order.id, step),
        customer_id=order.customer_id,
        conversation_id=order.conversation_id,
        data=data,
    )
    await record(core, event)
