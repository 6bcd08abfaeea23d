"""Where orders live, their ids and numbers, and the reads the feature shares."""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.counters import increment
from kith.core.errors import NotFound
from kith.core.ids import derived_id, new_id
from kith.orders.models import Order

ORDERS = "orders"
CUSTOMER_PANEL_ORDERS = 20
COUNTERS = "order_counters"  # one document per workspace: its last order number
# "Latest first" is by the order's date, its id breaking ties: an id derived from a shop's
# `external_id` is a hash, which says nothing of when the order came.
LATEST = "placed_at"


def orders(core: Core) -> Any:
    return core.store.collection(ORDERS)


def order_id(workspace_id: str, external_id: str | None) -> str:
    """A shop's order id names one Kith order per workspace: two racing creates of it insert
    one document (`_id` is unique on every engine), the other finds it."""
    if external_id is None:
        return new_id()
    return derived_id("order", workspace_id, external_id)


async def next_number(core: Core, workspace_id: str) -> int:
    """The workspace's next order number, from one atomic increment (two creates never share
    a number; a create that loses an external_id race leaves one unused)."""
    doc = await increment(core.store.collection(COUNTERS), workspace_id, "seq")
    return int(doc["seq"])


async def get_order(core: Core, workspace_id: str, order_id: str) -> Order:
    doc = await orders(core).find_one({"_id": order_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such order", field="order_id")
    return Order.from_doc(doc)


async def customer_orders(core: Core, workspace_id: str, customer_id: str) -> list[Order]:
    """A customer's latest orders, as the inbox's customer panel lists them (the order of
    `GET /app/api/orders?customer_id=`)."""
    query = {"workspace_id": workspace_id, "customer_id": customer_id}
    found = orders(core).find(query).sort([(LATEST, -1), ("_id", -1)])
    cursor = found.limit(CUSTOMER_PANEL_ORDERS)
    return [Order.from_doc(d) for d in await cursor.to_list(CUSTOMER_PANEL_ORDERS)]
