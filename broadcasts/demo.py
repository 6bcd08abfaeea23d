"""The demo's broadcasts: a draft to the "VIP in 上海" segment on the demo's channels, and a
draft community broadcast to the sample group and its Shanghai chapter."""

from __future__ import annotations

from kith.broadcasts.actions import do_create_broadcast
from kith.broadcasts.models import BroadcastIn
from kith.communities import roster
from kith.communities.models import Community
from kith.communities.store import get_community, members
from kith.core.context import Core
from kith.core.models import Author, AuthorKind
from kith.segments.filters import parse, to_query

SEGMENT = "VIP in 上海"
FILTER = {
    "all": [
        {"field": "tags", "op": "contains", "value": "vip"},
        {"field": "attributes.city", "op": "eq", "value": "上海"},
    ]
}
TEXT = {
    "zh": "{{ customer.name }}，您好！上海会员专享：本周末全场 8 折。回复“退订”不再接收。",
    "en": "Hi {{ customer.name }}! Members in Shanghai: 20% off everything this weekend. "
    "Reply STOP to opt out.",
}


async def seed_demo_broadcast(core: Core, workspace_id: str) -> None:
    """A draft to the segment if the demo has it, else to the customers its filter selects
    now (none: no draft)."""
    segment = await core.store.collection("segments").find_one(
        {"workspace_id": workspace_id, "name": SEGMENT}, {"_id": 1}
    )
    audience: dict[str, object]
    if segment is not None:
        audience = {"segment_id": segment["_id"]}
    else:
        query = {
            "$and": [{"workspace_id": workspace_id}, to_query(parse(FILTER), core.clock.now())]
        }
        ids = await core.store.customers.distinct("_id", query)
        if not ids:
            return
        audience = {"customer_ids": sorted(ids)}
    channels = [t for t in ("webchat", "api") if core.channels.get(t) is not None]
    body = BroadcastIn.model_validate(
        {"name": "上海会员周末特惠", "message": {"text": TEXT}, "channels": channels, **audience}
    )
    marketer = Author(kind=AuthorKind.system, name="demo")
    await do_create_broadcast(core, workspace_id, body, marketer)


# A second group on the sample group's bot, so that the audience picker has a choice.
CHAPTER = {"id": -1009876543211, "title": "Kettle Club 上海分会 · Shanghai chapter"}
CHAPTER_SIZE = 8
MEETUP = {
    "en": "Saturday meet-up at 10:00, Jing'an store: bring your kettle for a free descale!",
    "zh": "周六上午十点静安店见面会：带上您的水壶，免费除垢！",
}


async def seed_demo_community_broadcast(core: Core, workspace_id: str, club: Community) -> None:
    """The chapter and a draft posted into both groups once scheduled."""
    chapter = await seed_demo_chapter(core, workspace_id, club)
    body = BroadcastIn.model_validate(
        {
            "name": "周六见面会 · Saturday meet-up",
            "message": {"text": MEETUP},
            "community_ids": [club.id, chapter.id],
        }
    )
    await do_create_broadcast(core, workspace_id, body, Author(kind=AuthorKind.system, name="demo"))


async def seed_demo_chapter(core: Core, workspace_id: str, club: Community) -> Community:
    """A second group on the club's bot: a handful of the club's members, joined through the
    roster's actions."""
    chat = roster.Chat(
        workspace_id=workspace_id,
        channel_id=club.channel_id,
        channel_type=club.channel_type,
        platform_chat_id=str(CHAPTER["id"]),
        title=str(CHAPTER["title"]),
        kind="supergroup",
    )
    chapter = await roster.see(core, chat)
    found = (
        await members(core)
        .find({"community_id": club.id, "status": "member"}, sort=[("_id", 1)], limit=CHAPTER_SIZE)
        .to_list()
    )
    for doc in found:
        who = roster.Who(str(doc["platform_user_id"]), str(doc["customer_id"]), doc.get("name"))
        await roster.join(core, chapter, who, core.clock.now(), None, f"demo-chapter:{doc['_id']}")
    return await get_community(core, workspace_id, chapter.id)
