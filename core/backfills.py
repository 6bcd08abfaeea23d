"""One-off rewrites of stored documents, run once as a feature starts (tags stored before they
were folded, …). The documents are read in `_id` order, in batches, each batch written in one
unordered bulk write of updates that apply only while a document is still as read (a write
meanwhile wins). A finished pass leaves a mark in `backfills`, so that later starts cost one
read, and running again changes nothing; a cancelled or failed pass leaves each finished batch
standing, and the next start finishes the job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import UpdateOne

from kith.core.context import Core

log = logging.getLogger(__name__)

BACKFILLS = "backfills"
BATCH = 500

Rewrite = Callable[[dict[str, Any]], UpdateOne | None]
"""The update for a document as read (conditional on it still being so), or None."""


async def backfill(
    core: Core,
    done_id: str,
    collection: Any,
    query: dict[str, Any],
    projection: dict[str, Any],
    rewrite: Rewrite,
    *,
    batch: int = BATCH,
) -> int:
    """Rewrite the documents of `collection` matching `query` once; how many it changed."""
    marks = core.store.collection(BACKFILLS)
    if await marks.find_one({"_id": done_id}) is not None:
        return 0
    changed = 0
    after: Any = None
    while True:
        page = dict(query) if after is None else {**query, "_id": {"$gt": after}}
        found = collection.find(page, projection).sort("_id", 1)
        docs = await found.limit(batch).to_list(batch)
        writes = [w for d in docs if (w := rewrite(d)) is not None]
        if writes:
            changed += (await collection.bulk_write(writes, ordered=False)).modified_count
        if len(docs) < batch:
            break
        after = docs[-1]["_id"]
    done = {"$setOnInsert": {"done_at": core.clock.now(), "changed": changed}}
    await marks.update_one({"_id": done_id}, done, upsert=True)
    return changed


async def run_at_start(job: Awaitable[int], what: str) -> None:
    """A feature's background task: the backfill `job`, logged; a failure is left to the next
    start (shutdown cancels it harmlessly between or inside batches)."""
    try:
        changed = await job
    except Exception:
        log.exception("%s failed; the next start tries again", what)
        return
    if changed:
        log.info(what, extra={"count": changed})
