"""The customer's order figures, kept on their document as `orders` (segments read them
there): the count, the last order's date and the lifetime value per currency.

Recomputed from the customer's orders rather than incremented, so a retried action, a
merge that moved orders or a crash halfway leaves nothing counted twice. Two writers racing
are settled by `orders.rev`: a write only lands on the revision it read, and the loser reads
and recomputes again, so the last write always saw every order written before it.
"""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.models import Event
from kith.orders.models import COUNTED, VALUED, OrderStatus, Summary
from kith.orders.store import orders

ATTEMPTS = 5


async def compute(core: Core, workspace_id: str, customer_id: str) -> Summary:
    summary = Summary()
    query = {"workspace_id": workspace_id, "customer_id": customer_id}
    fields = {"status": 1, "currency": 1, "total": 1, "placed_at": 1}
    async for doc in orders(core).find(query, fields):
        status = OrderStatus(doc["status"])
        if status in COUNTED:
            summary.count += 1
            if summary.last_at is None or doc["placed_at"] > summary.last_at:
                summary.last_at = doc["placed_at"]
        if status in VALUED:
            currency = doc["currency"]
            summary.total[currency] = summary.total.get(currency, 0) + int(doc["total"])
    return summary


async def refresh(core: Core, workspace_id: str, customer_id: str) -> Summary | None:
    """Bring the customer's `orders` in line with their orders; a change is recorded as
    `customer.updated` (fields `orders`), so segments and open panels follow. None when the
    customer is gone (erased or merged away)."""
    customers = core.store.customers
    for _ in range(ATTEMPTS):
        doc = await customers.find_one(
            {"_id": customer_id, "workspace_id": workspace_id, "merged_into": None},
            {"orders": 1},
        )
        if doc is None:
            return None
        stored: dict[str, Any] = doc.get("orders") or {}
        summary = await compute(core, workspace_id, customer_id)
        rev = stored.get("rev")
        if Summary.model_validate(stored) == summary:
            return summary
        written = await customers.update_one(
            {"_id": customer_id, "orders.rev": rev},
            {"$set": {"orders": {**summary.model_dump(), "rev": (rev or 0) + 1}}},
        )
        if written.matched_count:
            event = build_event(
                core,
                workspace_id,
                "customer.updated",
                customer_id=customer_id,
                data={"fields": ["orders"]},
            )
            await record(core, event)
            return summary
    raise RuntimeError("the customer's order figures kept changing: retried too often")


MERGE_TYPES = ("customer.merged", "customer.unmerged")


async def on_merge(core: Core, event: Event) -> None:
    """The `order-summaries` consumer: a merge moved orders to the survivor (an undone merge
    moved them back), so both customers' figures are recomputed."""
    named = [event.customer_id, event.data.get("merged_id"), event.data.get("restored_id")]
    for customer_id in named:
        if isinstance(customer_id, str):
            await refresh(core, event.workspace_id, customer_id)
