"""A community's figures: one document per community and UTC day (joins, leaves, messages,
who spoke), from which members over time are read back: today's count minus the net joins
of every later day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from kith.communities.models import Community
from kith.communities.store import days
from kith.core.context import Core
from kith.core.ids import derived_id

SPEAKERS_KEPT = 5000  # distinct speakers counted per day (an upper bound, not a list to show)


class Day(BaseModel):
    day: date
    members: int
    joins: int = 0
    leaves: int = 0
    messages: int = 0
    active: int = 0


class Stats(BaseModel):
    community_id: str
    member_count: int
    days: list[Day]


async def add(
    core: Core,
    community: Community,
    at: datetime,
    *,
    joins: int = 0,
    leaves: int = 0,
    messages: int = 0,
    speaker: str | None = None,
) -> None:
    day = at.date().isoformat()
    update: dict[str, Any] = {
        "$inc": {"joins": joins, "leaves": leaves, "messages": messages},
        "$setOnInsert": {
            "workspace_id": community.workspace_id,
            "community_id": community.id,
            "day": day,
        },
    }
    if speaker is not None:
        update["$addToSet"] = {"speakers": speaker}
    await days(core).update_one(
        {"_id": derived_id("community-day", community.id, day)}, update, upsert=True
    )


async def forget_speaker(core: Core, community: Community, speaker: str) -> None:
    """An erased member's platform id out of the days they spoke on."""
    await days(core).update_many(
        {"community_id": community.id, "speakers": speaker}, {"$pull": {"speakers": speaker}}
    )


async def read(core: Core, community: Community, last: int) -> Stats:
    """The last `last` days, oldest first, today included."""
    today = core.clock.now().date()
    first = today - timedelta(days=last - 1)
    query = {"community_id": community.id, "day": {"$gte": first.isoformat()}}
    found = {doc["day"]: doc async for doc in days(core).find(query)}
    members = community.member_count
    out: list[Day] = []
    for offset in range(last):
        day = today - timedelta(days=offset)
        doc = found.get(day.isoformat(), {})
        joins, leaves = int(doc.get("joins", 0)), int(doc.get("leaves", 0))
        speakers = doc.get("speakers") or []
        out.append(
            Day(
                day=day,
                members=max(members, 0),
                joins=joins,
                leaves=leaves,
                messages=int(doc.get("messages", 0)),
                active=min(len(speakers), SPEAKERS_KEPT),
            )
        )
        members -= joins - leaves  # the count at the end of the day before
    out.reverse()
    return Stats(community_id=community.id, member_count=community.member_count, days=out)
