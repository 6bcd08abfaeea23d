"""The demo's broadcasts: last week's, sent to the website's customers with a tracked link
some of them followed (its stats show clicks); a draft to the "VIP in 上海" segment on the
demo's channels; and a draft community broadcast to the sample group and its Shanghai
chapter."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from kith.broadcasts import links
from kith.broadcasts.actions import do_create_broadcast, do_schedule, get_broadcast
from kith.broadcasts.audience import recipients
from kith.broadcasts.models import BroadcastIn, RecipientStatus
from kith.broadcasts.worker import BroadcastWorker
from kith.communities import roster
from kith.communities.models import Community
from kith.communities.store import get_community, members
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Author, AuthorKind
from kith.courtesy.settings import load_settings
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


LAST_WEEK = {
    "zh": "{{ customer.name }}，新款恒温水壶到货了：https://shop.example/kettles "
    "回复“退订”不再接收。",
    "en": "Hi {{ customer.name }}, our new kettles are in: https://shop.example/kettles "
    "Reply STOP to opt out.",
}
LAST_WEEK_BUTTON = {
    "label": "Shop kettles · 选购",
    "url": "https://shop.example/kettles?from=button",
}


async def seed_demo_broadcast(core: Core, workspace_id: str) -> None:
    """Last week's sent broadcast, then a draft to the segment if the demo has it, else to
    the customers its filter selects now (none: no draft)."""
    await seed_demo_sent_broadcast(core, workspace_id)
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


async def seed_demo_sent_broadcast(core: Core, workspace_id: str) -> None:
    """A broadcast sent a week ago (at 11:00 in the workspace's zone: out of quiet hours)
    to the customers of the demo's API channel, through the real worker on a demo clock, and
    every other recipient's click on its link counted as `GET /l/b/{token}` counts it: its
    stats show Clicked with a rate. The messages wait in the outbox for the demo's start."""
    api = await core.store.channels.distinct("_id", {"workspace_id": workspace_id, "type": "api"})
    found = await core.store.identities.distinct(
        "customer_id", {"workspace_id": workspace_id, "channel_id": {"$in": api}}
    )
    if not found:
        return
    customer_ids = sorted(str(c) for c in found)
    conversations = core.store.conversations
    previews = {
        doc["_id"]: doc["preview"]
        async for doc in conversations.find(
            {"customer_id": {"$in": customer_ids}, "preview": {"$ne": None}}, {"preview": 1}
        )
    }
    real_clock = core.clock
    zone = ZoneInfo((await load_settings(core, workspace_id)).timezone)
    day = (real_clock.now() - timedelta(days=7)).astimezone(zone)
    clock = ManualClock(day.replace(hour=11, minute=0, second=0, microsecond=0).astimezone(UTC))
    core.clock = clock
    try:
        body = BroadcastIn.model_validate(
            {
                "name": "新款水壶 · New kettles",
                "message": {"text": LAST_WEEK, "buttons": [LAST_WEEK_BUTTON]},
                "channels": ["api"],
                "customer_ids": customer_ids,
            }
        )
        marketer = Author(kind=AuthorKind.system, name="demo")
        made = await do_create_broadcast(core, workspace_id, body, marketer)
        await do_schedule(core, made, marketer)
        worker = BroadcastWorker(core)
        for _ in range(5):  # start, send, then find it done
            await worker.run_once()
            clock.advance(60)
            if (await get_broadcast(core, workspace_id, made.id)).finished_at is not None:
                break
        clock.advance(3600)
        sent = {"broadcast_id": made.id, "status": RecipientStatus.sent.value}
        rows = await recipients(core).find(sent, {"_id": 1}, sort=[("_id", 1)]).to_list()
        for row in rows[::2]:
            await links.clicked(core, workspace_id, str(row["_id"]))
            clock.advance(900)
    finally:
        core.clock = real_clock
    # `send` makes the message it writes its conversation's preview; one written on last
    # week's clock is not the latest, so the preview goes back to what it was.
    for conversation_id, preview in previews.items():
        await conversations.update_one(
            {"_id": conversation_id, "preview.at": {"$lt": preview["at"]}},
            {"$set": {"preview": preview}},
        )


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
