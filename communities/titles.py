"""Communities' titles where the platform's updates do not carry them (a Slack channel's
events name only its id): the `community-titles` consumer asks the channel's `GroupAdmin`
for the name when a community is first seen without one, or is heard from while it still
has none, and follows renames (`channel.group_renamed`). A failed lookup is not retried
before `RETRY_AFTER` (an app without `channels:read` would otherwise ask on every message).
Each change of title records `community.renamed`."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from kith.communities import roster
from kith.communities.models import Community
from kith.communities.store import communities, find_community
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.errors import DeliveryError
from kith.core.events import build_event, record
from kith.core.groups import Unsupported
from kith.core.ids import derived_id
from kith.core.models import Author, AuthorKind, Event
from kith.core.pipeline import channel_event_of

log = logging.getLogger(__name__)

TYPES = (
    "community.created",
    "message.received",
    "channel.member_joined",
    "channel.member_left",
    "channel.group_renamed",
)
RETRY_AFTER = timedelta(hours=1)
AUTHOR = Author(kind=AuthorKind.system, name="community")


async def consume(core: Core, event: Event) -> None:
    if event.type == "channel.group_renamed":
        await _renamed(core, event)
        return
    found = await _untitled(core, event)
    if found is not None:
        await _ask(core, found, event)


async def _untitled(core: Core, event: Event) -> Community | None:
    """The community the event is about, when it has no title yet (no lookup otherwise:
    a Telegram update names its chat's title, and the roster keeps it)."""
    if event.type == "community.created":
        doc = await communities(core).find_one({"_id": event.data.get("community_id")})
        found = Community.from_doc(doc) if doc is not None else None
    else:
        chat, title = _named_chat(event)
        if chat is None or title:
            return None
        found = await find_community(core, str(event.data.get("channel_id")), chat)
    return found if found is not None and not found.title else None


def _named_chat(event: Event) -> tuple[str | None, str | None]:
    if event.type == "message.received":
        group = event.data.get("group") or {}
        return (str(group["id"]) if group.get("id") else None), group.get("title")
    return event.data.get("group_id"), event.data.get("group_name")


async def _ask(core: Core, community: Community, event: Event) -> None:
    """Claim the lookup (one process asks, at most once per `RETRY_AFTER`), then ask."""
    now = core.clock.now()
    claim = await communities(core).update_one(
        {
            "_id": community.id,
            "title": "",
            "$or": [{"title_asked_at": None}, {"title_asked_at": {"$lt": now - RETRY_AFTER}}],
        },
        {"$set": {"title_asked_at": now}},
    )
    if not claim.matched_count:
        return
    kind = core.channels.get(community.channel_type)
    admin = kind.group_admin if kind is not None else None
    if admin is None:
        return
    try:
        channel = await get_channel(core, community.workspace_id, community.channel_id)
        title = await admin.title(core, channel, community.platform_chat_id)
    except (DeliveryError, Unsupported) as exc:
        log.warning(
            "the group's title could not be asked",
            extra={"community_id": community.id, "error": str(exc)},
        )
        return
    if title:
        await _retitle(core, community, title, {"title": ""}, f"asked:{community.id}")


async def _renamed(core: Core, event: Event) -> None:
    change = channel_event_of(event)
    if change.group_id is None or not change.group_name:
        return
    known = await find_community(core, change.channel_id, change.group_id)
    if known is None:  # first seen through its rename: made with the new title
        await roster.see(
            core,
            roster.Chat(
                workspace_id=change.workspace_id,
                channel_id=change.channel_id,
                channel_type=change.channel_type,
                platform_chat_id=change.group_id,
                title=change.group_name,
                kind=change.group_kind,
            ),
        )
        return
    if known.title != change.group_name:
        await _retitle(core, known, change.group_name, {}, event.id)


async def _retitle(
    core: Core, community: Community, title: str, unless: dict[str, Any], key: str
) -> None:
    done = await communities(core).update_one(
        {"_id": community.id, **unless},
        {"$set": {"title": title, "updated_at": core.clock.now()}},
    )
    if not done.modified_count:
        return
    event = build_event(
        core,
        community.workspace_id,
        "community.renamed",
        actor=AUTHOR,
        event_id=derived_id("community-event", "community.renamed", key),
        conversation_id=community.conversation_id,
        data={
            "community_id": community.id,
            "channel_id": community.channel_id,
            "title": title,
            "previous": community.title or None,
        },
    )
    await record(core, event)
