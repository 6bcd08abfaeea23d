"""Folding the tags stored before tags were folded (`kith.core.tags`): `["VIP", "vip"]` becomes
`["vip"]`, once, as the contacts feature starts (`kith.core.backfills`)."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import UpdateOne

from kith.core.backfills import BATCH, backfill, run_at_start
from kith.core.context import Core
from kith.core.tags import fold_tags

DONE_ID = "customers.tags_folded"


def _fold_write(doc: dict[str, Any]) -> UpdateOne | None:
    tags = doc["tags"]
    folded = fold_tags(tags)
    if folded == tags:
        return None
    return UpdateOne({"_id": doc["_id"], "tags": tags}, {"$set": {"tags": folded}})


async def fold_old_tags(core: Core, *, batch: int = BATCH) -> int:
    """Fold every customer's tags, merging those that differ only in case; how many customers
    it changed."""
    query = {"tags.0": {"$exists": True}}
    customers = core.store.customers
    return await backfill(core, DONE_ID, customers, query, {"tags": 1}, _fold_write, batch=batch)


async def backfill_tags(core: Core, stop: asyncio.Event) -> None:
    """Once, as the feature starts, beside the workers. Segments see the folded tags at their
    next reconciliation (`KITH_SEGMENTS_RECONCILE_CRON`)."""
    await run_at_start(fold_old_tags(core), "folded old customer tags")
