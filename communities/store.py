"""Where communities, their members and their daily figures live; ids are derived, so a
redelivered update finds what it made."""

from __future__ import annotations

from typing import Any

from kith.communities.models import Community, Member
from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.ids import derived_id

COMMUNITIES = "communities"
MEMBERS = "community_members"
DAYS = "community_days"  # one document per community and day: joins, leaves, messages …


def communities(core: Core) -> Any:
    return core.store.collection(COMMUNITIES)


def members(core: Core) -> Any:
    return core.store.collection(MEMBERS)


def days(core: Core) -> Any:
    return core.store.collection(DAYS)


def community_id(channel_id: str, platform_chat_id: str) -> str:
    return derived_id("community", channel_id, platform_chat_id)


def member_id(community: str, platform_user_id: str) -> str:
    return derived_id("community-member", community, platform_user_id)


async def get_community(core: Core, workspace_id: str, community: str) -> Community:
    doc = await communities(core).find_one({"_id": community, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such community", field="community_id")
    return Community.from_doc(doc)


async def find_community(core: Core, channel_id: str, platform_chat_id: str) -> Community | None:
    """The community of a chat, also under a chat id it had before a migration."""
    doc = await communities(core).find_one({"_id": community_id(channel_id, platform_chat_id)})
    if doc is None:  # it moved: under its new id, or an update still names the old one
        doc = await communities(core).find_one(
            {
                "channel_id": channel_id,
                "$or": [
                    {"platform_chat_id": platform_chat_id},
                    {"migrated_from": platform_chat_id},
                ],
            }
        )
    return Community.from_doc(doc) if doc else None


async def get_member(core: Core, community: str, platform_user_id: str) -> Member | None:
    doc = await members(core).find_one({"_id": member_id(community, platform_user_id)})
    return Member.from_doc(doc) if doc else None
