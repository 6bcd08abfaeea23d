"""Segment membership kept current by events, not by rescanning.

The `segments` consumer takes every event that can move a customer (created, updated, merged,
erased, a message received, consent or sentiment changed), re-reads that one customer and
evaluates the workspace's segments in memory (`filters.matches`), skipping the segments that
read no field the event can have touched. Changes go to `segment_members` (unique per segment
and customer) and to the event log as `segment.entered` / `segment.left`.

Exactly once under a retried consumer run: the event ids derive from (cause, segment,
customer, direction), and the row carries the cause: `by` on a row entered, `leaving` on a
row being taken out (claimed before its event is recorded, deleted after). A run killed
between the row and its event is completed by the next run of the same cause; two causes
racing are settled by the row (its unique key for entering, the `leaving` claim for leaving).
A size `$inc` lost in a crash is made good by the reconciliation, which recounts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.ids import derived_id
from kith.core.models import Event
from kith.segments.filters import Node, fields_named, matches
from kith.segments.history import record_size
from kith.segments.records import MEMBERS, SEGMENTS, Segment, parse_filter

MERGE_JOURNAL = "merges"  # kith.core.customers journals each merge there

# Events and the stored paths they can change; None: anything (a new or merged customer).
TYPES = (
    "customer.created",
    "customer.updated",
    "customer.merged",
    "customer.unmerged",  # an undone merge (contacts): the survivor and the restored one
    "customer.erased",
    "message.received",
    "consent.changed",
    "customer.sentiment_changed",
)


@dataclass(frozen=True)
class Live:
    """A segment ready to evaluate: its tree and the stored paths it reads."""

    id: str
    workspace_id: str
    node: Node
    paths: frozenset[str]


_PARSED: dict[tuple[str, int], Live] = {}
PARSED_KEPT = 10_000


def live(core: Core, segment: Segment) -> Live:
    """The segment parsed, once per revision of its filter (every event evaluates them all)."""
    key = (segment.id, segment.revision)
    found = _PARSED.get(key)
    if found is None:
        node = parse_filter(core, segment.filter)
        found = Live(segment.id, segment.workspace_id, node, frozenset(fields_named(node)))
        if len(_PARSED) >= PARSED_KEPT:
            _PARSED.clear()
        _PARSED[key] = found
    return found


def touched(event: Event) -> frozenset[str] | None:
    """The customer paths `event` may have changed (None: any of them)."""
    if event.type == "customer.updated":
        names = [
            *event.data.get("fields", ()),
            *(f"attributes.{k}" for k in event.data.get("attributes", ())),
        ]
        return frozenset(names)
    if event.type == "message.received":
        return None if event.data.get("new_customer") else frozenset({"last_seen"})
    if event.type == "consent.changed":
        return frozenset({"consent"})
    if event.type == "customer.sentiment_changed":
        return frozenset({"sentiment"})
    return None


def reads_any(paths: Iterable[str], changed: frozenset[str] | None) -> bool:
    if changed is None:
        return True
    return any(
        p == t or p.startswith(t + ".") or t.startswith(p + ".") for p in paths for t in changed
    )


async def consume(core: Core, event: Event) -> None:
    """The `segments` consumer."""
    if event.type in ("customer.erased", "customer.merged"):
        await recount(core, event.workspace_id, await _dropped(core, event))
    if event.customer_id:
        await evaluate(core, event.workspace_id, event.customer_id, event.id, touched(event))
    restored = event.data.get("restored_id") if event.type == "customer.unmerged" else None
    if isinstance(restored, str):
        await evaluate(core, event.workspace_id, restored, event.id, None)


async def workspace_live(core: Core, workspace_id: str) -> list[Live]:
    docs = await core.store.collection(SEGMENTS).find({"workspace_id": workspace_id}).to_list(None)
    return [live(core, Segment.from_doc(d)) for d in docs]


async def evaluate(
    core: Core, workspace_id: str, customer_id: str, cause: str, changed: frozenset[str] | None
) -> None:
    """Bring one customer's memberships in line with what `cause` changed."""
    segments = [s for s in await workspace_live(core, workspace_id) if reads_any(s.paths, changed)]
    if not segments:
        return
    doc = await core.store.customers.find_one({"_id": customer_id, "workspace_id": workspace_id})
    now = core.clock.now()
    present = doc is not None and not doc.get("merged_into")
    ids = [member_id(s.id, customer_id) for s in segments]  # rows are found by their _id
    rows = await core.store.collection(MEMBERS).find({"_id": {"$in": ids}}).to_list(None)
    have = {r["segment_id"]: r for r in rows}
    for segment in segments:
        wanted = present and doc is not None and matches(segment.node, doc, now)
        await settle(core, segment, customer_id, cause, wanted, have.get(segment.id))


async def settle(
    core: Core,
    segment: Live,
    customer_id: str,
    cause: str,
    wanted: bool,
    row: dict[str, Any] | None,
) -> None:
    """Enter or leave as `wanted` says, completing what an earlier run of `cause` began."""
    if row is None:
        if wanted:
            await enter(core, segment, customer_id, cause)
        return
    if row.get("leaving") == cause:
        await _finish_leaving(core, segment, customer_id, cause)
        if wanted:
            await enter(core, segment, customer_id, cause)
    elif row.get("leaving"):
        return  # another run is taking them out; its cause decides
    elif not wanted:
        await leave(core, segment, customer_id, cause)
    elif row.get("by") == cause:
        await _note(core, "segment.entered", segment, customer_id, cause)


def member_id(segment_id: str, customer_id: str) -> str:
    return derived_id("segment-member", segment_id, customer_id)


async def enter(core: Core, segment: Live, customer_id: str, cause: str) -> bool:
    row = {
        "_id": member_id(segment.id, customer_id),
        "segment_id": segment.id,
        "customer_id": customer_id,
        "workspace_id": segment.workspace_id,
        "since": core.clock.now(),
        "by": cause,
    }
    try:
        await core.store.collection(MEMBERS).insert_one(row)
    except DuplicateKeyError:
        return False
    await resize(core, segment.workspace_id, segment.id, 1)
    await _note(core, "segment.entered", segment, customer_id, cause)
    return True


async def leave(core: Core, segment: Live, customer_id: str, cause: str) -> bool:
    claimed = await core.store.collection(MEMBERS).find_one_and_update(
        {"_id": member_id(segment.id, customer_id), "leaving": None},
        {"$set": {"leaving": cause}},
        projection={"_id": 1},
    )
    if claimed is None:
        return False
    await _finish_leaving(core, segment, customer_id, cause)
    return True


async def _finish_leaving(core: Core, segment: Live, customer_id: str, cause: str) -> None:
    await _note(core, "segment.left", segment, customer_id, cause)
    gone = await core.store.collection(MEMBERS).delete_one(
        {"_id": member_id(segment.id, customer_id), "leaving": cause}
    )
    if gone.deleted_count:
        await resize(core, segment.workspace_id, segment.id, -1)


async def _note(core: Core, kind: str, segment: Live, customer_id: str, cause: str) -> None:
    event = build_event(
        core,
        segment.workspace_id,
        kind,
        event_id=derived_id(kind, cause, segment.id, customer_id),
        customer_id=customer_id,
        data={"segment_id": segment.id, "cause": cause},
    )
    await record(core, event)


async def resize(core: Core, workspace_id: str, segment_id: str, delta: int) -> None:
    doc = await core.store.collection(SEGMENTS).find_one_and_update(
        {"_id": segment_id},
        {"$inc": {"size": delta}},
        projection={"size": 1},
        return_document=ReturnDocument.AFTER,
    )
    if doc is not None:
        await record_size(core, workspace_id, segment_id, int(doc["size"]), core.clock.now())


async def count(core: Core, segment_id: str) -> int:
    return await core.store.collection(MEMBERS).count_documents({"segment_id": segment_id})


async def set_size(core: Core, workspace_id: str, segment_id: str) -> int:
    size = await count(core, segment_id)
    await core.store.collection(SEGMENTS).update_one({"_id": segment_id}, {"$set": {"size": size}})
    await record_size(core, workspace_id, segment_id, size, core.clock.now())
    return size


async def _dropped(core: Core, event: Event) -> frozenset[str] | None:
    """The segments in which a merge or an erasure dropped the gone customer's row (None:
    unknown, so all of them), so that only their sizes are counted again: counting every
    segment of the workspace read all its member rows on each merge.

    A merge's journal (`merges`, written by `do_merge_customers`) lists the row ids it dropped;
    an erasure keeps no customer id, only how many rows each collection lost."""
    if event.type == "customer.erased":
        return None if event.data.get(MEMBERS) else frozenset()
    journal = await core.store.collection(MERGE_JOURNAL).find_one(
        {"_id": event.data.get("merge_id")}, {f"moved.{MEMBERS}": 1}
    )
    merged_id = event.data.get("merged_id")
    if journal is None or not isinstance(merged_id, str):
        return None
    dropped = set(journal.get("moved", {}).get(MEMBERS, ()))
    if not dropped:
        return frozenset()
    ids = await core.store.collection(SEGMENTS).distinct(
        "_id", {"workspace_id": event.workspace_id}
    )
    return frozenset(s for s in ids if member_id(s, merged_id) in dropped)


async def recount(core: Core, workspace_id: str, only: Iterable[str] | None = None) -> None:
    """Sizes from the rows, after an erasure or a merge dropped a customer's rows (`only`
    those segments; None: every segment of the workspace)."""
    if only is None:
        only = await core.store.collection(SEGMENTS).distinct("_id", {"workspace_id": workspace_id})
    for segment_id in only:
        await set_size(core, workspace_id, segment_id)


async def customer_ids(core: Core, segment: Segment | str) -> AsyncIterator[str]:
    """The segment's members, by customer id (a cursor: any size; broadcasts read it)."""
    segment_id = segment if isinstance(segment, str) else segment.id
    cursor = (
        core.store.collection(MEMBERS)
        .find({"segment_id": segment_id, "leaving": None}, {"customer_id": 1})
        .sort("customer_id", 1)
        .batch_size(1000)
    )
    async for row in cursor:
        yield str(row["customer_id"])
