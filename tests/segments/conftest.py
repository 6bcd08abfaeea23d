"""Segment fixtures: customers stored as the core writes them, and segments made through the
actions the API calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.models import Customer, Event
from kith.segments.reconcile import fill
from kith.segments.records import Segment, do_create_segment

VIP = {"field": "tags", "op": "contains", "value": "vip"}
VIP_SHANGHAI = {"all": [VIP, {"field": "attributes.city", "op": "eq", "value": "上海"}]}


async def customer(core: Core, workspace_id: str, cid: str, **fields: Any) -> Customer:
    """A customer created as the contacts API does: stored, then `customer.created`."""
    now = core.clock.now()
    made = Customer(
        id=cid, workspace_id=workspace_id, first_seen=now - timedelta(days=1), last_seen=now
    )
    doc = made.to_doc() | fields
    await core.store.customers.insert_one(doc)
    await record(
        core, build_event(core, workspace_id, "customer.created", customer_id=cid, data={})
    )
    return Customer.from_doc(doc)


async def segment(core: Core, workspace_id: str, raw: Any, name: str = "VIP") -> Segment:
    made = await do_create_segment(core, workspace_id, name, raw)
    await fill(core, made)
    return made


async def members(core: Core, segment_id: str) -> set[str]:
    rows = core.store.collection("segment_members").find({"segment_id": segment_id})
    return {r["customer_id"] async for r in rows}


async def moves(core: Core, segment_id: str) -> list[tuple[str, str | None]]:
    """(entered|left, customer id) in log order."""
    docs = (
        await core.store.events.find(
            {"type": {"$in": ["segment.entered", "segment.left"]}, "data.segment_id": segment_id}
        )
        .sort("created_at", 1)
        .to_list(None)
    )
    return [(Event.from_doc(d).type.split(".")[1], d.get("customer_id")) for d in docs]


async def size(core: Core, segment_id: str) -> int:
    doc = await core.store.collection("segments").find_one({"_id": segment_id})
    assert doc is not None
    return int(doc["size"])
