"""Folding the tags stored before tags were folded (`kith.core.tags`): `["VIP", "vip"]` becomes
`["vip"]`, once, as the contacts feature starts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo import UpdateOne

from kith.core.context import Core
from kith.core.tags import fold_tags

log = logging.getLogger(__name__)

BACKFILLS = "backfills"
DONE_ID = "customers.tags_folded"
BATCH = 500


async def fold_old_tags(core: Core, *, batch: int = BATCH) -> int:
    """Fold every customer's tags, merging those that differ only in case. The customers with
    tags are read in `_id` order, in batches, each written in one bulk write whose updates
    apply only while the tags are still those read (a write meanwhile, folded already, wins).
    A finished pass leaves a mark in `backfills`, so that later starts cost one read; running
    again changes nothing. Returns how many customers it changed."""
    marks = core.store.collection(BACKFILLS)
    if await marks.find_one({"_id": DONE_ID}) is not None:
        return 0
    customers = core.store.customers
    folded = 0
    after: Any = None
    while True:
        query: dict[str, Any] = {"tags.0": {"$exists": True}}
        if after is not None:
            query["_id"] = {"$gt": after}
        found = customers.find(query, {"tags": 1}).sort("_id", 1)
        docs = await found.limit(batch).to_list(batch)
        writes = [
            UpdateOne({"_id": d["_id"], "tags": tags}, {"$set": {"tags": fold_tags(tags)}})
            for d in docs
            if (tags := d["tags"]) != fold_tags(tags)
        ]
        if writes:
            written = await customers.bulk_write(writes, ordered=False)
            folded += written.modified_count
        if len(docs) < batch:
            break
        after = docs[-1]["_id"]
    done = {"$setOnInsert": {"done_at": core.clock.now(), "changed": folded}}
    await marks.update_one({"_id": DONE_ID}, done, upsert=True)
    return folded


async def backfill_tags(core: Core, stop: asyncio.Event) -> None:
    """Once, as the feature starts, beside the workers: fold the old tags. Segments see the
    folded tags at their next reconciliation (`KITH_SEGMENTS_RECONCILE_CRON`). Shutdown
    cancels it between or inside batches, which is harmless: each batch stands alone and the
    next start finishes the job. A failure is logged and left to the next start."""
    try:
        folded = await fold_old_tags(core)
    except Exception:
        log.exception("folding old customer tags failed; the next start tries again")
        return
    if folded:
        log.info("folded old customer tags", extra={"count": folded})
