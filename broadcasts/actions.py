"""Writes on broadcasts: create (checked on save), and the moves between states.

Each move is one conditional update from the states it may leave, so two people (or a
person and a worker) moving one broadcast at once cannot both win; a refused move answers
409 and lists the moves allowed from where the broadcast is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kith.broadcasts import templates
from kith.broadcasts.models import MOVES, Broadcast, BroadcastIn, Status
from kith.communities import broadcasts as community_posts
from kith.core.context import Core
from kith.core.errors import InvalidInput, NotFound
from kith.core.events import SYSTEM, build_event, record
from kith.core.ids import new_id
from kith.core.models import Author
from kith.core.pagination import page
from kith.core.storage import existing_ids
from kith.core.transitions import move_status

COLLECTION = "broadcasts"


def broadcasts(core: Core) -> Any:
    return core.store.collection(COLLECTION)


async def check(core: Core, workspace_id: str, body: BroadcastIn) -> BroadcastIn:
    """Refuse what would fail later: templates, unknown channel types, the audience."""
    for language, text in body.message.text.items():
        await templates.check_async(text, f"message.text.{language}")
    for n, channel_type in enumerate(body.channels):
        if core.channels.get(channel_type) is None:
            raise InvalidInput(f"unknown channel type {channel_type!r}", field=f"channels.{n}")
    for name in ("send_at", "send_by"):
        value = getattr(body, name)
        if value is not None and value.tzinfo is None:
            raise InvalidInput("give a time zone (e.g. 2026-05-01T09:00:00+08:00)", field=name)
    if body.customer_ids is not None:
        body.customer_ids = await existing_ids(
            core.store.customers, workspace_id, body.customer_ids, "customer_ids", "customer"
        )
    if body.community_ids is not None:
        community_posts.check(body)
        body.community_ids = await community_posts.check_communities(
            core, workspace_id, body.community_ids
        )
    if body.segment_id is not None:
        found = await core.store.collection("segments").find_one(
            {"_id": body.segment_id, "workspace_id": workspace_id}, {"_id": 1}
        )
        if found is None:
            raise InvalidInput("no such segment in this workspace", field="segment_id")
    return body


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
    """Queue it: the workers start it at `send_at` (now when unset)."""
    if broadcast.status != Status.draft:
        return await move(core, broadcast, Status.scheduled, actor)  # refused, with the moves
    if broadcast.send_by is not None and broadcast.send_by <= core.clock.now():
        raise InvalidInput("send_by has already passed", field="send_by")
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
