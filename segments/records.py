"""Segment records: a named, saved filter over a workspace's customers, and the actions that
create, change and delete one. Membership itself lives in `kith.segments.membership`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, KithError, NotFound, raise_all
from kith.core.ids import new_id
from kith.core.models import Record
from kith.segments.filters import CORE_FIELDS, Fields, Node, parse, refuse_blank_values

SEGMENTS = "segments"
MEMBERS = "segment_members"
SIZES = "segment_sizes"
MAX_NAME = 120


class Fixed(BaseModel):
    added: int = 0
    removed: int = 0


class Segment(Record):
    """A segment as stored. `filter` is the JSON as given (validated); `revision` grows with
    every filter change, so a membership pass can tell it worked on an older filter."""

    name: str
    filter: dict[str, Any]
    size: int = 0
    revision: int = 1
    created_at: datetime
    updated_at: datetime
    last_reconciled_at: datetime | None = None
    fixed: Fixed | None = Field(default=None, description="What the last reconciliation fixed.")


def installed_fields(core: Core) -> Fields:
    """Core's fields and those the installed features add (`Feature.segment_fields`)."""
    return Fields((*CORE_FIELDS, *(s for f in core.features for s in f.segment_fields)))


def parse_filter(core: Core, raw: Any) -> Node:
    return parse(raw, installed_fields(core))


def parse_new_filter(core: Core, raw: Any) -> Node:
    """A filter being written: parsed, and refused where it looks for a blank value; every
    refusal of both at once (a blank key and a blank value are marked together)."""
    errors: list[KithError] = []
    node: Node | None = None
    try:
        node = parse_filter(core, raw)
    except InvalidInput as exc:
        errors.extend(exc.fields)
    try:
        refuse_blank_values(raw)
    except InvalidInput as exc:
        errors.extend(exc.fields)
    raise_all(errors)
    assert node is not None  # nothing refused: it parsed
    return node


def _checked(core: Core, name: str | None, raw: Any, *, filtered: bool) -> str | None:
    """The stripped name (None when not given), with the filter `raw` checked when
    `filtered` (a new segment's always: a missing one is refused too): every bad place of
    both refused in one answer, so a form marks the blank name and the blank value at once
    instead of one per round."""
    errors: list[KithError] = []
    if filtered:
        try:
            parse_new_filter(core, raw)
        except InvalidInput as exc:
            errors.extend(exc.fields)
    if name is not None:
        try:
            name = _name(name)
        except InvalidInput as exc:
            errors.insert(0, exc)  # the form's first control: the first marked and focused
    raise_all(errors)
    return name


def _name(name: str) -> str:
    """Stripped; with a `reason` either way, for the page to word it in its language."""
    name = name.strip()
    if not name:
        raise InvalidInput("write a name: it cannot be blank", field="name", reason="blank")
    if len(name) > MAX_NAME:
        raise InvalidInput(
            f"a name of 1 to {MAX_NAME} characters",
            field="name",
            reason="string_too_long",
            limits={"max_length": MAX_NAME},
        )
    return name


async def _refuse_taken(core: Core, workspace_id: str, name: str, keep: str | None = None) -> None:
    """A 409 on `name` when another segment of the workspace has it, whatever its case: two
    "VIP" in a broadcast's segment list cannot be told apart. (Names are compared here, not
    by a unique index, so a workspace that already holds two alike still starts.)"""
    folded = name.casefold()
    found = core.store.collection(SEGMENTS).find({"workspace_id": workspace_id}, {"name": 1})
    async for doc in found:
        if doc["_id"] != keep and str(doc.get("name", "")).casefold() == folded:
            raise Conflict(
                f"a segment named {doc['name']!r} exists",
                field="name",
                code="name_taken",
                reason="name_taken",
                limits={"name": doc["name"], "segment_id": doc["_id"]},
            )


async def get_segment(core: Core, workspace_id: str, segment_id: str) -> Segment:
    """The segment, or 404, also for another workspace's (its id is not confirmed)."""
    doc = await core.store.collection(SEGMENTS).find_one(
        {"_id": segment_id, "workspace_id": workspace_id}
    )
    if doc is None:
        raise NotFound("no such segment", field="segment_id")
    return Segment.from_doc(doc)


async def workspace_segments(core: Core, workspace_id: str) -> list[Segment]:
    docs = await core.store.collection(SEGMENTS).find({"workspace_id": workspace_id}).to_list(None)
    return [Segment.from_doc(d) for d in docs]


async def do_create_segment(core: Core, workspace_id: str, name: str, raw: Any) -> Segment:
    """Store a validated segment; the caller fills it (`reconcile.fill`)."""
    _checked(core, name, raw, filtered=True)
    name = name.strip()  # as checked
    await _refuse_taken(core, workspace_id, name)
    now = core.clock.now()
    segment = Segment(
        id=new_id(),
        workspace_id=workspace_id,
        name=name,
        filter=raw,
        created_at=now,
        updated_at=now,
    )
    await core.store.collection(SEGMENTS).insert_one(segment.to_doc())
    return segment


async def do_update_segment(
    core: Core, segment: Segment, name: str | None = None, raw: Any = None
) -> tuple[Segment, bool]:
    """Rename and/or refilter; returns the segment and whether its filter changed (then the
    caller recomputes membership)."""
    changes: dict[str, Any] = {"updated_at": core.clock.now()}
    refiltered = raw is not None and raw != segment.filter
    name = _checked(core, name, raw, filtered=refiltered)
    if name is not None:
        changes["name"] = name
        await _refuse_taken(core, segment.workspace_id, name, keep=segment.id)
    update: dict[str, Any] = {"$set": changes}
    if refiltered:
        changes["filter"] = raw
        update["$inc"] = {"revision": 1}
    await core.store.collection(SEGMENTS).update_one({"_id": segment.id}, update)
    return await get_segment(core, segment.workspace_id, segment.id), refiltered


# Who may still act on a segment, by collection name (the features that own them import
# this module, not the other way round): a broadcast not yet ended, a sequence not archived.
LIVE_BROADCASTS = ("draft", "scheduled", "sending", "paused")
MAX_USERS_NAMED = 5


async def users_of(core: Core, segment: Segment) -> list[dict[str, str]]:
    """What still relies on `segment`: each a `kind` (broadcast, sequence), `id` and `name`."""
    scope = {"workspace_id": segment.workspace_id}
    broadcasts = core.store.collection("broadcasts").find(
        {**scope, "segment_id": segment.id, "status": {"$in": list(LIVE_BROADCASTS)}},
        {"name": 1},
    )
    entered = {"kind": "segment_entered", "value": segment.id}
    sequences = core.store.collection("sequences").find(
        {
            **scope,
            "status": {"$ne": "archived"},
            "$or": [{"goal.segment_id": segment.id}, {"triggers": {"$elemMatch": entered}}],
        },
        {"name": 1},
    )
    named = [_user("broadcast", d) async for d in broadcasts]
    named += [_user("sequence", d) async for d in sequences]
    return named


def _user(kind: str, doc: dict[str, Any]) -> dict[str, str]:
    return {"kind": kind, "id": str(doc["_id"]), "name": str(doc.get("name", ""))}


async def do_delete_segment(core: Core, segment: Segment) -> None:
    """The segment, its members and its size history; refused (409) while a broadcast that
    has not ended or a sequence that is not archived uses it, as Mautic refuses to delete a
    segment a campaign uses: deleted, it would quietly send to nobody. The refusal lists
    them (`limits.users`, the first few) for a page to name them in its own language."""
    users = await users_of(core, segment)
    if users:
        listed = users[:MAX_USERS_NAMED]
        shown = ", ".join(f'{u["kind"]} "{u["name"]}" ({u["id"]})' for u in listed)
        more = f" and {len(users) - MAX_USERS_NAMED} more" if len(users) > MAX_USERS_NAMED else ""
        raise Conflict(
            f"used by {shown}{more}: cancel or change them first",
            field="segment_id",
            code="segment_in_use",
            reason="segment_in_use",
            limits={
                "names": f"{shown}{more}",
                "count": len(users),
                "users": listed,
                "more": len(users) - len(listed),
            },
        )
    await core.store.collection(SEGMENTS).delete_one({"_id": segment.id})
    await core.store.collection(MEMBERS).delete_many({"segment_id": segment.id})
    await core.store.collection(SIZES).delete_many({"segment_id": segment.id})
