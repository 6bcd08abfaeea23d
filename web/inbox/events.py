"""`/app/api/events`: the inbox's live updates as Server-Sent Events.

A browser that reconnects sends `Last-Event-ID` and first gets what it missed (from the
event log), so a laptop that slept or a proxy that cut the stream needs no reload. Each
event is checked against the reader's scope: an agent hears only of their teams'
conversations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from kith.core.context import Core
from kith.core.models import Event
from kith.core.permissions import Scope, scope_with_teams, sees_customer
from kith.core.realtime import feed_for, head_cursor, parse_cursor, stream_cursor
from kith.core.sessions import load_session
from kith.web.inbox.deps import SESSION_COOKIE, AgentDep, CoreDep

router = APIRouter(prefix="/app/api", include_in_schema=False)
HEARTBEAT_SECONDS = 15.0
_CACHE_LIMIT = 10_000
# Every reader hears of an erasure (it holds counts, no ids): their pages look again.
ERASED = "customer.erased"


class Visibility:
    """Whether the reader may hear of an event; conversation lookups are cached per stream."""

    def __init__(self, core: Core, scope: Scope) -> None:
        self.core = core
        self.scope = scope
        self.known: dict[str, bool] = {}

    async def allows(self, event: Event) -> bool:
        if self.scope.channel_ids is None or event.type == ERASED:
            return True
        if event.conversation_id is None:
            # a customer's own event, not cached: a new conversation can make them seen
            return event.customer_id is not None and await sees_customer(
                self.core, self.scope, event.customer_id
            )
        allowed = self.known.get(event.conversation_id)
        if allowed is None:
            doc = await self.core.store.conversations.find_one(
                {"_id": event.conversation_id}, {"channel_id": 1, "team_id": 1}
            )
            allowed = doc is not None and self.scope.sees(doc["channel_id"], doc.get("team_id"))
            if len(self.known) > _CACHE_LIMIT:
                self.known.clear()
            if event.type != "conversation.team_changed":
                self.known[event.conversation_id] = allowed
        if event.type == "conversation.team_changed":
            self.known.pop(event.conversation_id, None)
        return allowed


def event_out(event: Event) -> dict[str, Any]:
    return {
        "type": event.type,
        "conversation_id": event.conversation_id,
        "customer_id": event.customer_id,
        "message_id": event.message_id,
        "actor": {"kind": event.actor.kind, "id": event.actor.id, "name": event.actor.name},
        "data": event.data,
        "created_at": event.created_at.isoformat(),
    }


def frame(event: Event, cursor: str) -> str:
    data = json.dumps(event_out(event), default=str, ensure_ascii=False)
    return f"id: {cursor}\nevent: kith\ndata: {data}\n\n"


async def _still_allowed(core: Core, request: Request, scope: Scope) -> bool:
    """The session still live, its user enabled, with the same role and teams' reach."""
    session = await load_session(core, request.cookies.get(SESSION_COOKIE))
    if session is None:  # logged out, expired, or the user was disabled
        return False
    now = scope_with_teams(session.user, session.teams)
    return (now.user.id, now.user.role, now.channel_ids, now.team_ids) == (
        scope.user.id,
        scope.user.role,
        scope.channel_ids,
        scope.team_ids,
    )


async def stream(
    core: Core, request: Request, scope: Scope, after: str | None
) -> AsyncIterator[str]:
    """Events as SSE frames, with a comment when quiet to keep proxies open.

    The session is checked again every `KITH_STREAM_RECHECK_SECONDS` (on Kith's clock while
    events flow, on a timer while quiet), and the stream ends once the user is disabled,
    logged out, or their teams or role change: the browser's reconnect then meets a 401, or
    a stream scoped afresh.
    """
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    visibility = Visibility(core, scope)
    every = core.settings.stream_recheck_seconds

    async def pump() -> None:
        try:
            async for event in feed_for(core).subscribe(scope.user.workspace_id, after=after):
                await queue.put(event)
        finally:
            await queue.put(None)

    task = asyncio.create_task(pump())
    cursor = after  # the browser's `Last-Event-ID`: never moves back (see `stream_cursor`)
    checked = core.clock.now()

    async def still_allowed() -> bool:
        """The session checked again, counted from when the read began: a change committed
        while it ran (under load, a disabling as the clock moves on) is caught by the next
        check, not skipped behind the late stamp of this one."""
        nonlocal checked
        asked = core.clock.now()
        allowed = await _still_allowed(core, request, scope)
        checked = asked
        return allowed

    try:
        yield "retry: 2000\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), min(HEARTBEAT_SECONDS, every))
            except TimeoutError:
                if not await still_allowed():
                    return
                yield ": keep-alive\n\n"
                continue
            if event is None:
                return
            if (core.clock.now() - checked).total_seconds() >= every and not await still_allowed():
                return
            if await visibility.allows(event):
                cursor = stream_cursor(cursor, event)
                yield frame(event, cursor)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@router.get("/events")
async def events(
    request: Request,
    agent: AgentDep,
    core: CoreDep,
    last_event_id: Annotated[str | None, Header(max_length=200)] = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    cursor = last_event_id or after
    if cursor:
        parse_cursor(cursor)  # a malformed cursor is a 422 now, not a broken stream later
    else:  # from now on, including what is logged while the stream sets up
        cursor = await head_cursor(core, agent.user.workspace_id)
    return StreamingResponse(
        stream(core, request, agent.scope, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
