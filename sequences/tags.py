"""Folding the tag triggers stored before tags were folded (`kith.core.tags`): a sequence saved
with the trigger "tag added: VIP" waits for `VIP`, which no customer carries any more (tags are
stored folded, `vip`), so it never fires. Triggers are matched in the database, on the value
as stored (`kith.sequences.triggers.matching`), so the stored value itself must be folded:
once, as the sequences feature starts, as `kith.contacts.tags` folds customers' tags."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo import UpdateOne

from kith.contacts.tags import BACKFILLS
from kith.core.context import Core
from kith.core.tags import fold_tag
from kith.sequences.models import TriggerKind
from kith.sequences.store import sequences

log = logging.getLogger(__name__)

DONE_ID = "sequences.trigger_tags_folded"
BATCH = 500
TAG = TriggerKind.tag_added.value


def folded_triggers(triggers: list[Any]) -> list[Any]:
    """`triggers` as stored, with each tag trigger's value folded (the others as they are)."""
    return [
        {**t, "value": fold_tag(t["value"])}
        if isinstance(t, dict) and t.get("kind") == TAG and isinstance(t.get("value"), str)
        else t
        for t in triggers
    ]


def fold_write(doc: dict[str, Any]) -> UpdateOne | None:
    """The update that folds `doc`'s tag triggers, applied only while its triggers are still
    those read (an edit meanwhile, folded already, wins); None when there is nothing to fold."""
    triggers = doc.get("triggers") or []
    folded = folded_triggers(triggers)
    if folded == triggers:
        return None
    return UpdateOne({"_id": doc["_id"], "triggers": triggers}, {"$set": {"triggers": folded}})


async def fold_sequence_triggers(core: Core, sequence_id: str) -> bool:
    """Fold one sequence's stored tag triggers (a save that changes nothing else still folds
    them); whether it changed anything."""
    doc = await sequences(core).find_one({"_id": sequence_id}, {"triggers": 1})
    write = fold_write(doc) if doc is not None else None
    if write is None:
        return False
    written = await sequences(core).bulk_write([write])
    return bool(written.modified_count)


async def fold_old_trigger_tags(core: Core, *, batch: int = BATCH) -> int:
    """Fold every sequence's tag triggers, in `_id` order and batches of `batch`, each one
    bulk write. A finished pass leaves a mark in `backfills`, so that later starts cost one
    read; running again changes nothing. Returns how many sequences it changed."""
    marks = core.store.collection(BACKFILLS)
    if await marks.find_one({"_id": DONE_ID}) is not None:
        return 0
    folded = 0
    after: Any = None
    while True:
        query: dict[str, Any] = {"triggers.kind": TAG}
        if after is not None:
            query["_id"] = {"$gt": after}
        found = sequences(core).find(query, {"triggers": 1}).sort("_id", 1)
        docs = await found.limit(batch).to_list(batch)
        writes = [w for d in docs if (w := fold_write(d)) is not None]
        if writes:
            written = await sequences(core).bulk_write(writes, ordered=False)
            folded += written.modified_count
        if len(docs) < batch:
            break
        after = docs[-1]["_id"]
    done = {"$setOnInsert": {"done_at": core.clock.now(), "changed": folded}}
    await marks.update_one({"_id": DONE_ID}, done, upsert=True)
    return folded


async def backfill_trigger_tags(core: Core, stop: asyncio.Event) -> None:
    """Once, as the feature starts, beside the workers (as `kith.contacts.tags.backfill_tags`):
    a cancelled pass leaves each finished batch standing and the next start finishes the job;
    a failure is logged and left to the next start."""
    try:
        folded = await fold_old_trigger_tags(core)
    except Exception:
        log.exception("folding old sequence tag triggers failed; the next start tries again")
        return
    if folded:
        log.info("folded old sequence tag triggers", extra={"count": folded})
