"""Merges as an audit trail, and undoing one.

`kith.core.customers.do_merge_customers` journals every merge in `merges`: both profiles as
they were, the merged profile it wrote, and the ids it moved in each collection. Undo reads
that entry and puts back what the merge did and nothing else:

- every document the merge moved goes back to the other customer (if it still names the
  survivor: one erased since is gone, one created after the merge, such as a message that
  arrived since, stays with the survivor);
- the other customer's profile comes back exactly as it was;
- on the survivor, each profile field the merge changed and nobody touched since returns to
  its old value; a field changed since keeps its new value, less what the merge brought in
  (tags, emails, phones, identities, channels, attributes and consent of the other).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from kith.core.context import Core
from kith.core.customers import customer_data
from kith.core.errors import Conflict, NotFound
from kith.core.events import SYSTEM, build_event, record
from kith.core.models import Author, Customer
from kith.core.pagination import page

MERGES = "merges"
# The journal's copies of personal data, dropped once the merge is undone (it cannot be undone
# twice): what stays is the audit, ids and who and when, so erasing either customer later
# leaves none of their data behind here.
SNAPSHOT = {"survivor_before": "", "other_before": "", "merged_profile": "", "moved": ""}


class MergeOut(BaseModel):
    """One merge in the audit trail: who, when, from what, and whether it was undone."""

    id: str
    survivor_id: str
    survivor_name: str | None = Field(
        description="The kept customer's shown name now (None when Kith knows none, or erased)."
    )
    other_id: str
    other_name: str | None = Field(
        description="The merged customer's shown name: as it is now (a tombstone, or back after "
        "an undo), else as the merge found it; None once they are erased."
    )
    actor: Author
    via: str | None
    created_at: datetime
    undone_at: datetime | None
    undone_by: Author | None


class UndoReport(BaseModel):
    """What an undo put back, and what it left with the survivor (and why)."""

    merge: MergeOut
    moved_back: dict[str, int]
    gone: dict[str, int]
    kept_on_survivor: list[str]


async def _shown_names(core: Core, workspace_id: str, ids: set[str]) -> dict[str, str | None]:
    """The customers' shown names, read now: the journal drops its copies on undo, so a line
    about an undone merge still names both (an erased customer is absent: no name)."""
    docs = await core.store.customers.find(
        {"workspace_id": workspace_id, "_id": {"$in": sorted(ids)}}
    ).to_list(None)
    return {d["_id"]: Customer.from_doc(d).shown_name for d in docs}


def merge_out(doc: dict[str, Any], names: dict[str, str | None]) -> MergeOut:
    undone_by = doc.get("undone_by")
    return MergeOut(
        id=doc["_id"],
        survivor_id=doc["kept_id"],
        survivor_name=names.get(doc["kept_id"]),
        other_id=doc["other_id"],
        other_name=names.get(doc["other_id"]) or (doc.get("other_before") or {}).get("name"),
        actor=Author.model_validate(doc["actor"]),
        via=doc.get("via"),
        created_at=doc["created_at"],
        undone_at=doc.get("undone_at"),
        undone_by=Author.model_validate(undone_by) if undone_by else None,
    )


async def list_merges(
    core: Core, workspace_id: str, cursor: str | None, limit: int
) -> tuple[list[MergeOut], str | None]:
    """The workspace's merges, newest first."""
    docs, next_cursor = await page(
        core.store.collection(MERGES),
        {"workspace_id": workspace_id},
        "_id",
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    names = await _shown_names(core, workspace_id, {i for d in docs for i in _ids(d)})
    return [merge_out(d, names) for d in docs], next_cursor


def _ids(doc: dict[str, Any]) -> tuple[str, str]:
    return doc["kept_id"], doc["other_id"]


async def _journal(core: Core, workspace_id: str, merge_id: str) -> dict[str, Any]:
    doc = await core.store.collection(MERGES).find_one(
        {"_id": merge_id, "workspace_id": workspace_id}
    )
    if doc is None:
        raise NotFound("no such merge", field="merge_id")
    return doc


def _without(current: Any, merged: Any, before: Any) -> Any:
    """`current` less what the merge added (`merged` over `before`), keeping later changes."""
    if isinstance(current, list) and isinstance(merged, list):
        added = [item for item in merged if item not in (before or [])]
        return [item for item in current if item not in added]
    if isinstance(current, dict) and isinstance(merged, dict):
        before = before or {}
        return {
            key: value
            for key, value in current.items()
            if key in before or key not in merged or merged[key] != value
        }
    return current


def _survivor_restore(
    current: dict[str, Any], merged: dict[str, Any], before: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The $set and $unset that undo the merge on the survivor, and the fields kept as changed."""
    to_set: dict[str, Any] = {}
    to_unset: dict[str, str] = {}
    kept: list[str] = []
    for field, merged_value in merged.items():
        now = current.get(field)
        if now == merged_value:
            if field in before:
                to_set[field] = before[field]
            else:
                to_unset[field] = ""
            continue
        kept.append(field)
        to_set[field] = _without(now, merged_value, before.get(field))
    return to_set, to_unset, kept


async def do_undo_merge(
    core: Core, workspace_id: str, merge_id: str, actor: Author = SYSTEM
) -> UndoReport:
    """Undo one merge (see the module's docstring for what comes back). Refused when already
    undone, or when the survivor has since been merged into a third customer (undo that first).
    Every step is idempotent, so an undo interrupted half-way can simply be run again."""
    doc = await _journal(core, workspace_id, merge_id)
    if doc.get("undone_at") is not None:
        raise Conflict("this merge was already undone", field="merge_id", code="already_undone")
    survivor_id, other_id = doc["kept_id"], doc["other_id"]
    if doc["survivor_id"] != survivor_id:
        raise Conflict(
            "the surviving customer was merged into another one since: undo that merge first",
            field="merge_id",
            code="survivor_merged",
        )
    survivor = await core.store.customers.find_one({"_id": survivor_id, "merged_into": None})
    other = await core.store.customers.find_one({"_id": other_id})
    if survivor is None or other is None or other.get("merged_into") != survivor_id:
        raise Conflict("these customers changed too much to undo the merge", field="merge_id")
    fields = {data.collection: data.field for data in customer_data(core)}
    moved_back: dict[str, int] = {}
    gone: dict[str, int] = {}
    for collection, ids in doc["moved"].items():
        field = fields.get(collection)
        if field is None or not ids:
            continue
        await core.store.collection(collection).update_many(
            {"_id": {"$in": ids}, field: survivor_id}, {"$set": {field: other_id}}
        )
        back = await core.store.collection(collection).count_documents(
            {"_id": {"$in": ids}, field: other_id}
        )
        moved_back[collection] = back
        gone[collection] = len(ids) - back
    await core.store.customers.replace_one({"_id": other_id}, doc["other_before"])
    to_set, to_unset, kept = _survivor_restore(
        survivor, doc["merged_profile"], doc["survivor_before"]
    )
    update: dict[str, Any] = {}
    if to_set:
        update["$set"] = to_set
    if to_unset:
        update["$unset"] = to_unset
    if update:
        await core.store.customers.update_one({"_id": survivor_id}, update)
    now = core.clock.now()
    marked = await core.store.collection(MERGES).update_one(
        {"_id": merge_id, "undone_at": None},
        {
            "$set": {"undone_at": now, "undone_by": actor.model_dump(mode="python")},
            "$unset": SNAPSHOT,
        },
    )
    if marked.modified_count:
        event = build_event(
            core,
            workspace_id,
            "customer.unmerged",
            actor=actor,
            customer_id=survivor_id,
            data={"merge_id": merge_id, "restored_id": other_id, "kept": kept},
        )
        await record(core, event)
    journal = await _journal(core, workspace_id, merge_id)
    return UndoReport(
        merge=merge_out(journal, await _shown_names(core, workspace_id, set(_ids(journal)))),
        moved_back=moved_back,
        gone=gone,
        kept_on_survivor=kept,
    )
