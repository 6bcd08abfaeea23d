"""Who else has a conversation open, and who is typing in it ("collision detection").

An agent types a reply (`typing`, which the web chat widget also shows its customer) or a
private note (`noting`, which only colleagues see).

Each open inbox tab reports its state every few seconds; a report expires after
`PRESENCE_TTL` of real time (the wall clock, whatever the demo clock's speed), so a closed
laptop disappears on its own. Only changes (arrived, started
typing, left) are logged as events, so every process's browsers hear of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pymongo.errors import DuplicateKeyError

from kith.core.clock import utcnow, wall
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.models import Author, AuthorKind, Conversation, User
from kith.web.inbox.api import readable
from kith.web.inbox.deps import AgentDep, CoreDep
from kith.web.inbox.schemas import Presence

router = APIRouter(prefix="/app/api", include_in_schema=False)
PRESENCE_TTL = timedelta(seconds=30)
PURGE_MARGIN = timedelta(minutes=10)  # stale reports are ignored on read, deleted later


async def viewers(core: Core, conversation_id: str) -> list[dict[str, Any]]:
    docs = (
        await core.store.collection("presence")
        .find({"conversation_id": conversation_id, "expires_at": {"$gt": wall(core.clock).now()}})
        .to_list(100)
    )
    return [{"user_id": d["user_id"], "name": d["name"], "state": d["state"]} for d in docs]


async def report(core: Core, conversation: Conversation, user: User, state: str) -> None:
    key = f"{conversation.id}:{user.id}"
    now = wall(core.clock).now()
    if state == "left":
        before = await core.store.collection("presence").find_one_and_delete({"_id": key})
    else:
        before = await _upsert(core, key, conversation, user, state, now)
    was = (
        before["state"]
        if before and before["expires_at"].replace(tzinfo=now.tzinfo) > now
        else "left"
    )
    if was == state:
        return
    await record(
        core,
        build_event(
            core,
            conversation.workspace_id,
            "presence.changed",
            actor=Author(kind=AuthorKind.agent, id=user.id, name=user.name),
            conversation_id=conversation.id,
            data={"user_id": user.id, "state": state},
        ),
    )


async def _upsert(
    core: Core, key: str, conversation: Conversation, user: User, state: str, now: datetime
) -> dict[str, Any] | None:
    """Two first reports racing collide on the upsert's `_id`; the loser simply updates."""
    for attempt in range(2):
        try:
            return await core.store.collection("presence").find_one_and_update(
                {"_id": key},
                {
                    "$set": {
                        "conversation_id": conversation.id,
                        "workspace_id": conversation.workspace_id,
                        "user_id": user.id,
                        "name": user.name,
                        "state": state,
                        "expires_at": now + PRESENCE_TTL,
                        "purge_at": utcnow() + PRESENCE_TTL + PURGE_MARGIN,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            if attempt:
                raise
    return None


@router.get("/conversations/{conversation_id}/presence")
async def who(conversation_id: str, agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    await readable(core, agent, conversation_id)
    others = [v for v in await viewers(core, conversation_id) if v["user_id"] != agent.user.id]
    return {"items": others}


@router.post("/conversations/{conversation_id}/presence")
async def here(
    conversation_id: str, body: Presence, agent: AgentDep, core: CoreDep
) -> dict[str, bool]:
    conversation = await readable(core, agent, conversation_id)
    writing = body.state in ("typing", "noting")
    state = body.state if not writing or agent.scope.can_write else "viewing"
    await report(core, conversation, agent.user, state)
    return {"ok": True}
