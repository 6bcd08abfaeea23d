"""What the customer page shows: the profile with identities, segments and conversations, and
the timeline of the customer's events.

Reads only. `channels` limits what an agent sees to their teams' channels (`None`: every
channel), so a customer page teaches an agent nothing of how the customer reaches other teams.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from kith.core.context import Core
from kith.core.models import Author, Customer
from kith.core.pagination import page


class IdentityOut(BaseModel):
    channel_id: str
    channel_type: str | None
    channel_name: str | None
    external_id: str
    email: str | None
    phone: str | None


class ConversationRef(BaseModel):
    id: str
    channel_id: str
    channel_name: str | None
    status: str
    last_message_at: datetime


class SegmentRef(BaseModel):
    id: str
    name: str
    since: datetime | None


class Profile(BaseModel):
    customer: Customer
    identities: list[IdentityOut]
    conversations: list[ConversationRef]
    segments: list[SegmentRef]


class TimelineEntry(BaseModel):
    id: str
    type: str
    actor: Author
    conversation_id: str | None
    created_at: datetime
    data: dict[str, Any]


def _limited(query: dict[str, Any], channels: frozenset[str] | None) -> dict[str, Any]:
    return query if channels is None else {**query, "channel_id": {"$in": sorted(channels)}}


async def _channel_names(core: Core, ids: set[str]) -> dict[str, str]:
    docs = await core.store.channels.find({"_id": {"$in": sorted(ids)}}, {"name": 1}).to_list(None)
    return {d["_id"]: d.get("name", "") for d in docs}


async def _segments(core: Core, customer: Customer) -> list[SegmentRef]:
    """The segments the customer is in, from the segments feature's membership (none yet
    where it is not installed)."""
    members = (
        await core.store.collection("segment_members")
        .find({"customer_id": customer.id, "workspace_id": customer.workspace_id})
        .to_list(200)
    )
    since = {m["segment_id"]: m.get("since") for m in members}
    docs = (
        await core.store.collection("segments")
        .find({"_id": {"$in": sorted(since)}, "workspace_id": customer.workspace_id}, {"name": 1})
        .to_list(None)
    )
    return sorted(
        (SegmentRef(id=d["_id"], name=d.get("name", ""), since=since[d["_id"]]) for d in docs),
        key=lambda s: s.name,
    )


async def profile(core: Core, customer: Customer, channels: frozenset[str] | None) -> Profile:
    base = {"customer_id": customer.id, "workspace_id": customer.workspace_id}
    identities = await core.store.identities.find(_limited(base, channels)).to_list(200)
    conversations = (
        await core.store.conversations.find(_limited(base, channels))
        .sort("last_message_at", -1)
        .limit(50)
        .to_list(50)
    )
    names = await _channel_names(
        core, {i["channel_id"] for i in identities} | {c["channel_id"] for c in conversations}
    )
    return Profile(
        customer=customer,
        identities=[
            IdentityOut(
                channel_id=i["channel_id"],
                channel_type=i.get("channel_type"),
                channel_name=names.get(i["channel_id"]),
                external_id=i["external_id"],
                email=i.get("email"),
                phone=i.get("phone"),
            )
            for i in identities
        ],
        conversations=[
            ConversationRef(
                id=c["_id"],
                channel_id=c["channel_id"],
                channel_name=names.get(c["channel_id"]),
                status=c.get("status", "open"),
                last_message_at=c["last_message_at"],
            )
            for c in conversations
        ],
        segments=await _segments(core, customer),
    )


async def timeline(
    core: Core,
    customer: Customer,
    channels: frozenset[str] | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[TimelineEntry], str | None]:
    """The customer's events, newest first; for a limited reader, only events outside any
    conversation or in conversations on their channels."""
    query: dict[str, Any] = {"customer_id": customer.id, "workspace_id": customer.workspace_id}
    if channels is not None:
        visible = await core.store.conversations.distinct(
            "_id", _limited({"customer_id": customer.id}, channels)
        )
        query["conversation_id"] = {"$in": [None, *visible]}
    docs, next_cursor = await page(
        core.store.events, query, "created_at", cursor=cursor, limit=limit, descending=True
    )
    return [
        TimelineEntry(
            id=d["_id"],
            type=d["type"],
            actor=Author.model_validate(d["actor"]),
            conversation_id=d.get("conversation_id"),
            created_at=d["created_at"],
            data=d.get("data") or {},
        )
        for d in docs
    ], next_cursor
