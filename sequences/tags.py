"""Folding the tag triggers stored before tags were folded (`kith.core.tags`): a sequence saved
with the trigger "tag added: VIP" waits for `VIP`, which no customer carries any more (tags are
stored folded, `vip`), so it never fires. Triggers are matched in the database, on the value
as stored (`kith.sequences.triggers.matching`), so the stored value itself must be folded:
once, as the sequences feature starts, as `kith.contacts.tags` folds customers' tags."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import UpdateOne

from kith.core.backfills import BATCH, backfill, run_at_start
from kith.core.context import Core
from kith.core.tags import fold_tag
from kith.sequences.models import TriggerKind
from kith.sequences.store import sequences

DONE_ID = "sequences.trigger_tags_folded"
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
    """Fold every sequence's tag triggers (`kith.core.backfills`); how many it changed."""
    query = {"triggers.kind": TAG}
    found = sequences(core)
    return await backfill(core, DONE_ID, found, query, {"triggers": 1}, fold_write, batch=batch)


async def backfill_trigger_tags(core: Core, stop: asyncio.Event) -> None:
    """Once, as the feature starts, beside the workers (as `kith.contacts.tags.backfill_tags`)."""
    await run_at_start(fold_old_trigger_tags(core), "folded old sequence tag triggers")
