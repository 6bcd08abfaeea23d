"""Reconciliation: the true membership of a segment, from a full query, made so.

Events keep membership current; this catches what they cannot: time passing (`within_days`,
`older_than_days`), a write that recorded no event, a consumer parked after five failures.
A durable timer per workspace runs it (`KITH_SEGMENTS_RECONCILE_CRON`, every 10 minutes by
default); `POST /api/v1/segments/{id}/reconcile` runs it on demand. It walks the customers the
filter selects and the member rows side by side, both sorted by customer id (memory stays
flat at any size), records `segment.entered` / `segment.left` for each fix and reports what it
fixed on the segment (`last_reconciled_at`, `fixed`) and in the log.

A new segment (or a changed filter) is filled by the same walk, `quiet`: rows written in
bulk, no entered/left events (nobody moved; the definition did), the size recounted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from pymongo.errors import BulkWriteError

from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.ids import derived_id
from kith.core.timers import Cron, Timer, schedule_timer
from kith.segments.filters import to_query
from kith.segments.membership import Live, enter, leave, live, member_id, set_size
from kith.segments.records import MEMBERS, Fixed, Segment, get_segment, workspace_segments

log = logging.getLogger(__name__)

RECONCILE = "segments.reconcile"
FILL = "segments.fill"
BATCH = 1000
INLINE_FILL = 20_000  # a new segment over more customers is filled by a timer, off the request


async def _truth(core: Core, segment: Live) -> AsyncIterator[str]:
    query = {
        "$and": [
            {"workspace_id": segment.workspace_id, "merged_into": None},
            to_query(segment.node, core.clock.now()),
        ]
    }
    cursor = core.store.customers.find(query, {"_id": 1}).sort("_id", 1).batch_size(BATCH)
    async for doc in cursor:
        yield str(doc["_id"])


async def _members(core: Core, segment_id: str) -> AsyncIterator[str]:
    cursor = (
        core.store.collection(MEMBERS)
        .find({"segment_id": segment_id}, {"customer_id": 1})
        .sort("customer_id", 1)
        .batch_size(BATCH)
    )
    async for row in cursor:
        yield str(row["customer_id"])


async def _next(items: AsyncIterator[str]) -> str | None:
    return await anext(items, None)


async def diff(core: Core, segment: Live) -> AsyncIterator[tuple[str, bool]]:
    """(customer id, should be a member) for every customer whose row is wrong."""
    truth, rows = _truth(core, segment), _members(core, segment.id)
    want, have = await _next(truth), await _next(rows)
    while want is not None or have is not None:
        if have is None or (want is not None and want < have):
            yield str(want), True
            want = await _next(truth)
        elif want is None or have < want:
            yield have, False
            have = await _next(rows)
        else:
            want, have = await _next(truth), await _next(rows)


async def reconcile(core: Core, segment: Segment, cause: str, *, quiet: bool = False) -> Fixed:
    """Make the segment's rows the truth; returns (and stores) what was fixed."""
    current = live(core, segment)
    fixed = Fixed()
    if quiet:
        fixed = await _bulk(core, current)
    else:
        async for customer_id, wanted in diff(core, current):
            if wanted and await enter(core, current, customer_id, cause):
                fixed.added += 1
            elif not wanted and await leave(core, current, customer_id, cause):
                fixed.removed += 1
    size = await set_size(core, segment.workspace_id, segment.id)
    if not quiet:  # a fill is not a check: nothing was wrong
        await core.store.collection("segments").update_one(
            {"_id": segment.id},
            {"$set": {"last_reconciled_at": core.clock.now(), "fixed": fixed.model_dump()}},
        )
    # Quiet when nothing needed fixing (the demo clock runs the hourly pass every second).
    log.log(
        logging.INFO if fixed.added or fixed.removed else logging.DEBUG,
        "segment reconciled",
        extra={"segment": segment.id, "added": fixed.added, "removed": fixed.removed, "size": size},
    )
    return fixed


async def _bulk(core: Core, segment: Live) -> Fixed:
    fixed = Fixed()
    adds: list[str] = []
    removes: list[str] = []
    async for customer_id, wanted in diff(core, segment):
        (adds if wanted else removes).append(customer_id)
        if len(adds) >= BATCH:
            fixed.added += await _add_rows(core, segment, adds)
            adds = []
        if len(removes) >= BATCH:
            fixed.removed += await _remove_rows(core, segment, removes)
            removes = []
    fixed.added += await _add_rows(core, segment, adds)
    fixed.removed += await _remove_rows(core, segment, removes)
    return fixed


async def _add_rows(core: Core, segment: Live, customer_ids: list[str]) -> int:
    if not customer_ids:
        return 0
    now = core.clock.now()
    rows: list[dict[str, Any]] = [
        {
            "_id": member_id(segment.id, c),
            "segment_id": segment.id,
            "customer_id": c,
            "workspace_id": segment.workspace_id,
            "since": now,
            "by": "fill",
        }
        for c in customer_ids
    ]
    try:
        result = await core.store.collection(MEMBERS).insert_many(rows, ordered=False)
    except BulkWriteError as exc:  # the consumer entered some meanwhile
        return int(exc.details.get("nInserted", 0))
    return len(result.inserted_ids)


async def _remove_rows(core: Core, segment: Live, customer_ids: list[str]) -> int:
    if not customer_ids:
        return 0
    result = await core.store.collection(MEMBERS).delete_many(
        {"segment_id": segment.id, "customer_id": {"$in": customer_ids}}
    )
    return result.deleted_count


async def fill(core: Core, segment: Segment) -> bool:
    """Fill a new (or refiltered) segment now when the workspace is small; otherwise hand it
    to a durable timer due at once (returns False: the size follows shortly)."""
    customers = await core.store.customers.count_documents(
        {"workspace_id": segment.workspace_id}, limit=INLINE_FILL + 1
    )
    await ensure_reconcile_timer(core, segment.workspace_id)
    if customers <= INLINE_FILL:
        await reconcile(core, segment, "fill", quiet=True)
        return True
    payload = {"workspace_id": segment.workspace_id, "segment_id": segment.id}
    await schedule_timer(core, f"{FILL}:{segment.id}", FILL, core.clock.now(), payload)
    return False


async def ensure_reconcile_timer(core: Core, workspace_id: str) -> None:
    key = f"{RECONCILE}:{workspace_id}"
    if await core.store.timers.find_one({"_id": key}, {"_id": 1}) is None:
        cron = Cron(core.settings.segments_reconcile_cron)
        await schedule_timer(core, key, RECONCILE, cron, {"workspace_id": workspace_id})


async def on_reconcile_timer(core: Core, timer: Timer) -> None:
    """Every segment of the workspace; a retry of the same firing records no fix twice."""
    cause = derived_id(RECONCILE, timer.key, timer.fire_at.isoformat())
    for segment in await workspace_segments(core, timer.payload["workspace_id"]):
        await reconcile(core, segment, cause)


async def on_fill_timer(core: Core, timer: Timer) -> None:
    try:
        segment = await get_segment(
            core, timer.payload["workspace_id"], timer.payload["segment_id"]
        )
    except NotFound:
        return  # deleted before it was filled
    await reconcile(core, segment, "fill", quiet=True)
