"""Materialising a broadcast's audience into `broadcast_recipients`, in chunks, resumably.

One row per (broadcast, customer), its `_id` derived from both, written with upserts that only
insert: a materialiser killed after a chunk's write and before it moved its bookmark writes
that chunk again and changes nothing. The bookmark (`audience.after`, the last customer id
written) lives on the broadcast, and the work is held under a lease, so whichever process
takes the lease next goes on from there.

A segment's audience is its members when the broadcast starts: the filter is snapshotted on
the broadcast at start and evaluated in customer-id order (a customer who joins the segment
during the send does not get it, one who leaves it still does), which keeps the audience a
fixed, resumable list instead of a moving target.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from kith.broadcasts.models import Broadcast, Recipient, RecipientStatus
from kith.core import leases
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.segments.filters import to_query
from kith.segments.records import parse_filter

RECIPIENTS = "broadcast_recipients"
CHUNK = 500
LEASE_SECONDS = 60.0


def recipients(core: Core) -> Any:
    return core.store.collection(RECIPIENTS)


def recipient_id(broadcast_id: str, target: str) -> str:
    """The row of a customer (or a community) in a broadcast."""
    return derived_id("broadcast-recipient", broadcast_id, target)


async def snapshot_filter(core: Core, broadcast: Broadcast) -> dict[str, Any] | None:
    """The segment's stored filter as it is now (None when targeting customer ids)."""
    if broadcast.segment_id is None:
        return None
    doc = await core.store.collection("segments").find_one(
        {"_id": broadcast.segment_id, "workspace_id": broadcast.workspace_id}, {"filter": 1}
    )
    raw = (doc or {}).get("filter")
    return raw if isinstance(raw, dict) else None


async def _next_ids(
    core: Core, broadcast: Broadcast, after: str | None, now: datetime
) -> list[str]:
    listed = (
        broadcast.customer_ids if broadcast.customer_ids is not None else broadcast.community_ids
    )
    if listed is not None:
        ordered = sorted(listed)
        return [c for c in ordered if after is None or c > after][:CHUNK]
    raw = broadcast.audience.filter
    if raw is None:  # the segment was deleted before the broadcast started
        return []
    query: dict[str, Any] = {
        "$and": [
            {"workspace_id": broadcast.workspace_id, "merged_into": None},
            to_query(parse_filter(core, raw), broadcast.started_at or now),
        ]
    }
    if after is not None:
        query["$and"].append({"_id": {"$gt": after}})
    cursor = core.store.customers.find(query, {"_id": 1}, sort=[("_id", 1)], limit=CHUNK)
    return [doc["_id"] async for doc in cursor]


async def materialise(core: Core, broadcast: Broadcast, owner: str) -> bool:
    """Write the audience from the bookmark on; True once all of it is written (False when
    another process holds the work)."""
    name = f"broadcast-audience:{broadcast.id}"
    after = broadcast.audience.after
    store = core.store.collection("broadcasts")
    while await leases.acquire(core, name, owner, LEASE_SECONDS):
        now = core.clock.now()
        ids = await _next_ids(core, broadcast, after, now)
        if ids:
            due = max(broadcast.send_at or now, now)
            written = await recipients(core).bulk_write(
                [_insert(broadcast, customer_id, due) for customer_id in ids], ordered=False
            )
            after = ids[-1]
            await store.update_one(
                {"_id": broadcast.id},
                {
                    "$set": {"audience.after": after},
                    "$inc": {"stats.targeted": written.upserted_count},
                },
            )
        if len(ids) < CHUNK:
            # Exact, whatever a killed materialiser had counted.
            targeted = await recipients(core).count_documents({"broadcast_id": broadcast.id})
            await store.update_one(
                {"_id": broadcast.id},
                {"$set": {"audience.done": True, "stats.targeted": targeted}},
            )
            await leases.release(core, name, owner)
            return True
    return False


def _insert(broadcast: Broadcast, target: str, due: datetime) -> UpdateOne:
    """A row for a customer, or for a community when the broadcast goes to communities."""
    to_communities = broadcast.community_ids is not None
    row = Recipient(
        id=recipient_id(broadcast.id, target),
        workspace_id=broadcast.workspace_id,
        broadcast_id=broadcast.id,
        customer_id=None if to_communities else target,
        community_id=target if to_communities else None,
        status=RecipientStatus.pending,
        due_at=due,
    ).to_doc()
    row_id = row.pop("_id")
    return UpdateOne({"_id": row_id}, {"$setOnInsert": row}, upsert=True)
