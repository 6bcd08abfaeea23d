"""Writes on broadcasts: create (checked on save), and the moves between states.

Each move is one conditional update from the states it may leave, so two people (or a
person and a worker) moving one broadcast at once cannot both win; a refused move answers
409 and lists the moves allowed from where the broadcast is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError
from pymongo import ReturnDocument

from kith.broadcasts import templates
from kith.broadcasts.models import MOVES, Broadcast, BroadcastIn, BroadcastPatch, Status
from kith.communities import broadcasts as community_posts
from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, KithError, NotFound, all_refused, raise_all
from kith.core.events import SYSTEM, build_event, record
from kith.core.ids import new_id
from kith.core.models import Author
from kith.core.pagination import page
from kith.core.storage import existing_ids
from kith.core.transitions import move_status

T = TypeVar("T")
COLLECTION = "broadcasts"
AUDIENCE = ("segment_id", "customer_ids", "community_ids")


def broadcasts(core: Core) -> Any:
    return core.store.collection(COLLECTION)


async def check(core: Core, workspace_id: str, body: BroadcastIn) -> BroadcastIn:
    """Refuse what would fail later: templates, unknown channel types, the audience; every
    bad field in one answer (a form marks them all at once)."""
    errors: list[KithError] = []

    async def checked(check: Awaitable[T]) -> T | None:
        try:
            return await check
        except InvalidInput as exc:
            errors.extend(exc.fields)
            return None

    for language, text in body.message.text.items():
        await checked(templates.check_async(text, f"message.text.{language}"))
    errors += body.message.refusals("message")
    await checked(_sync(core.channels.check_names, body.channels))
    for name in ("send_at", "send_by"):
        value = getattr(body, name)
        if value is not None and value.tzinfo is None:
            errors.append(
                InvalidInput("give a time zone (e.g. 2026-05-01T09:00:00+08:00)", field=name)
            )
    if body.send_at is not None and body.send_at.tzinfo is not None:
        await checked(_sync(_send_at_not_past, core, body.send_at))
    if body.send_by is not None and body.send_by.tzinfo is not None:
        await checked(_sync(_not_past, core, body.send_by))
    if body.customer_ids is not None:
        found = await checked(
            existing_ids(
                core.store.customers, workspace_id, body.customer_ids, "customer_ids", "customer"
            )
        )
        body.customer_ids = found if found is not None else body.customer_ids
    if body.community_ids is not None:
        await checked(_sync(community_posts.check, body))
        found = await checked(
            community_posts.check_communities(core, workspace_id, body.community_ids)
        )
        body.community_ids = found if found is not None else body.community_ids
    if body.segment_id is not None:
        segment = await core.store.collection("segments").find_one(
            {"_id": body.segment_id, "workspace_id": workspace_id}, {"_id": 1}
        )
        if segment is None:
            errors.append(
                InvalidInput(
                    "no such segment in this workspace", field="segment_id", reason="no_segment"
                )
            )
    raise_all(errors)
    return body


async def _sync(check: Callable[..., T], *args: Any) -> T:
    """A plain check run where `checked` awaits one."""
    return check(*args)


async def do_create_broadcast(
    core: Core, workspace_id: str, body: BroadcastIn, actor: Author
) -> Broadcast:
    body = await check(core, workspace_id, body)
    now = core.clock.now()
    broadcast = Broadcast(
        id=new_id(),
        workspace_id=workspace_id,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
        **body.model_dump(),
    )
    await broadcasts(core).insert_one(broadcast.to_doc())
    await _event(core, broadcast, "broadcast.created", actor, {"name": broadcast.name})
    return broadcast


def _not_past(core: Core, send_by: datetime | None) -> None:
    """A deadline already gone would skip every recipient: refused on save and on schedule,
    with a `reason` the page words in its language."""
    now = core.clock.now()
    if send_by is not None and send_by <= now:
        raise InvalidInput(
            "send_by has already passed",
            field="send_by",
            reason="send_by_passed",
            limits={"now": now.isoformat()},
        )


# How far in the past a `send_at` may be and still be taken as "now": the browser's clock
# and the server's differ a little, and a time picked as "this minute" arrives seconds later.
SEND_AT_GRACE = timedelta(minutes=1)


def _send_at_not_past(core: Core, send_at: datetime | None) -> None:
    """A start time already gone would send at once, which nobody picking a time meant (Braze
    refuses it too): refused on save and on schedule, beyond `SEND_AT_GRACE`. No time at all
    is how to say "when scheduled"."""
    now = core.clock.now()
    if send_at is not None and send_at < now - SEND_AT_GRACE:
        raise InvalidInput(
            "send_at has already passed: give a later time, or none to send when scheduled",
            field="send_at",
            reason="send_at_passed",
            limits={"now": now.isoformat()},
        )


async def do_update_broadcast(
    core: Core, broadcast: Broadcast, patch: BroadcastPatch, actor: Author
) -> Broadcast:
    """Change a draft: the patch's fields over the draft's, checked as a whole as on save
    (nothing is written unless all of it passes). Only a draft: 409 on `status` otherwise,
    also when it was scheduled between the read and the write. Each saved edit bumps
    `version`; a patch naming the version it read is refused (409 on `version`) once another
    edit has been saved since, and two edits racing from one read cannot both win."""
    if broadcast.status != Status.draft:
        raise _not_a_draft(broadcast.status)
    given = patch.model_dump(exclude_unset=True)
    read = given.pop("version", None)
    if read is not None and read != broadcast.version:
        raise _changed(broadcast)
    merged = broadcast.model_dump(include=set(BroadcastIn.model_fields))
    if any(key in given for key in AUDIENCE):
        merged |= dict.fromkeys(AUDIENCE)
        if given.get("community_ids") is not None and "channels" not in given:
            merged["channels"] = []  # each community's post goes on its own channel
    merged |= given
    try:
        body = BroadcastIn.model_validate(merged)
    except ValidationError as exc:
        raise all_refused(exc.errors(), merged) from None
    body = await check(core, broadcast.workspace_id, body)
    fields = body.model_dump()
    changed = sorted(k for k, v in fields.items() if getattr(broadcast, k) != getattr(body, k))
    if not changed:
        return broadcast
    updated = Broadcast.model_validate(
        {**broadcast.model_dump(), **fields, "updated_at": core.clock.now()}
    )
    written = {k: v for k, v in updated.to_doc().items() if k in fields or k == "updated_at"}
    # A draft stored before versions has none: it is version 1 ($in with None finds it).
    seen = [1, None] if broadcast.version == 1 else [broadcast.version]
    doc = await broadcasts(core).find_one_and_update(
        {
            "_id": broadcast.id,
            "workspace_id": broadcast.workspace_id,
            "status": Status.draft.value,
            "version": {"$in": seen},
        },
        {"$set": {**written, "version": broadcast.version + 1}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        current = await get_broadcast(core, broadcast.workspace_id, broadcast.id)
        if current.status != Status.draft:
            raise _not_a_draft(current.status)
        raise _changed(current)
    saved = Broadcast.from_doc(doc)
    await _event(core, saved, "broadcast.updated", actor, {"fields": ",".join(changed)})
    return saved


def _changed(current: Broadcast) -> Conflict:
    return Conflict(
        "the draft was changed by someone else since you loaded it: load it again",
        field="version",
        reason="changed",
        limits={"version": current.version},
    )


def _not_a_draft(status: Status) -> Conflict:
    return Conflict(
        f"only a draft can be edited (this broadcast is {status.value})",
        field="status",
        reason="not_a_draft",
        limits={"status": status.value},
    )


async def get_broadcast(core: Core, workspace_id: str, broadcast_id: str) -> Broadcast:
    doc = await broadcasts(core).find_one({"_id": broadcast_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such broadcast", field="broadcast_id")
    return Broadcast.from_doc(doc)


async def list_broadcasts(
    core: Core, workspace_id: str, *, cursor: str | None, limit: int
) -> tuple[list[Broadcast], str | None]:
    docs, next_cursor = await page(
        broadcasts(core),
        {"workspace_id": workspace_id},
        "_id",
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    return [Broadcast.from_doc(d) for d in docs], next_cursor


async def move(
    core: Core,
    broadcast: Broadcast,
    to: Status,
    actor: Author = SYSTEM,
    extra: dict[str, Any] | None = None,
) -> Broadcast:
    """Move to `to` from wherever the broadcast is now, if that move is allowed."""
    now = core.clock.now()
    doc = await move_status(
        broadcasts(core),
        {"_id": broadcast.id, "workspace_id": broadcast.workspace_id},
        MOVES,
        to,
        {"$set": {"status": to.value, "updated_at": now, **(extra or {})}},
        noun="broadcast",
        missing=NotFound("no such broadcast", field="broadcast_id"),
    )
    moved = Broadcast.from_doc(doc)
    await _event(
        core, moved, "broadcast.status_changed", actor, {"from": broadcast.status, "to": to}
    )
    return moved


async def do_schedule(core: Core, broadcast: Broadcast, actor: Author) -> Broadcast:
    """Queue it: the workers start it at `send_at` (now when unset; one already passed, or a
    `send_by` passed, is refused)."""
    if broadcast.status != Status.draft:
        return await move(core, broadcast, Status.scheduled, actor)  # refused, with the moves
    errors: list[KithError] = []
    for not_past, at in ((_send_at_not_past, broadcast.send_at), (_not_past, broadcast.send_by)):
        try:  # a draft saved in time whose times passed before scheduling: both said at once
            not_past(core, at)
        except InvalidInput as exc:
            errors.append(exc)
    raise_all(errors)
    if broadcast.segment_id is not None and not await _segment_exists(core, broadcast):
        raise InvalidInput("no such segment (it was deleted)", field="segment_id")
    return await move(core, broadcast, Status.scheduled, actor)


async def _segment_exists(core: Core, broadcast: Broadcast) -> bool:
    """Deleting a segment a draft uses is refused; this catches one deleted in between."""
    found = await core.store.collection("segments").find_one(
        {"_id": broadcast.segment_id, "workspace_id": broadcast.workspace_id}, {"_id": 1}
    )
    return found is not None


async def do_pause(core: Core, broadcast: Broadcast, actor: Author) -> Broadcast:
    """Workers stop claiming its recipients; sends already in flight finish."""
    return await move(core, broadcast, Status.paused, actor)


async def do_resume(core: Core, broadcast: Broadcast, actor: Author) -> Broadcast:
    """Back to sending (or to scheduled, when it had not started and its time is ahead)."""
    if broadcast.status != Status.paused:
        return await move(core, broadcast, Status.sending, actor)
    waiting = broadcast.started_at is None and _later(broadcast.send_at, core.clock.now())
    return await move(core, broadcast, Status.scheduled if waiting else Status.sending, actor)


async def do_cancel(core: Core, broadcast: Broadcast, actor: Author) -> Broadcast:
    """Stop for good: the workers skip every recipient not yet sent (reason `cancelled`)."""
    return await move(core, broadcast, Status.cancelled, actor)


def _later(at: datetime | None, now: datetime) -> bool:
    return at is not None and at > now


async def _event(
    core: Core, broadcast: Broadcast, type_: str, actor: Author, data: dict[str, Any]
) -> None:
    await record(
        core,
        build_event(
            core,
            broadcast.workspace_id,
            type_,
            actor=actor,
            data={"broadcast_id": broadcast.id, **{k: str(v) for k, v in data.items()}},
        ),
    )
