"""One document per join a welcome looks after (`community_joins`): what became of it
(welcomed, quiet, swept into a raid), the rules' state, and whether a restriction was lifted.

Each join's id derives from its `community.member_joined` event, and every change of state is
conditional on the state it leaves, so consumers and timers in several processes that run
the same join agree on one outcome. `act` is the one way this package calls the platform's
group administration (`ChannelType.group_admin`)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, overload

from pymongo import ReturnDocument

from kith.communities.events import KITH
from kith.communities.events import note as note  # the welcome's modules record through it
from kith.communities.models import Community, MemberStatus
from kith.communities.store import members
from kith.core.channel_records import get_channel
from kith.core.clock import aware
from kith.core.context import Core
from kith.core.conversations import ensure_conversation
from kith.core.errors import DeliveryError
from kith.core.groups import Unsupported
from kith.core.ids import derived_id
from kith.core.models import Conversation, ConversationGroup, Event

log = logging.getLogger(__name__)

JOINS = "community_joins"
AUTHOR = KITH  # what the welcome, rules and raid mode post as
# How long a join is kept after it is stored (`purge_at`, a TTL index). Its readers need it
# for its welcome's pause (a day at most), its rules' timeout (30 days at most), a raid's
# window (a day at most) and the raid it is swept into. A join whose rules were accepted is
# kept (no `purge_at`): the member is never asked again; so is one waiting for a press with
# no rules timeout set, until the member leaves (`close_left`). A rejoin's quiet days are
# read from the roster, not from here.
KEPT = timedelta(days=45)


class Mode(StrEnum):
    pending = "pending"  # its welcome waits (a raid may still take it)
    welcomed = "welcomed"
    quiet = "quiet"  # no welcome: a member back within the quiet days, or an admin
    raid = "raid"  # one of a raid's joins: the raid's summary welcomes it


class RulesState(StrEnum):
    pending = "pending"  # restricted until they press the button
    accepted = "accepted"
    expired = "expired"  # not accepted in time: removed
    waived = "waived"  # a raid took the join: the raid's restriction replaces the rules'
    left = "left"  # they left before accepting: closed, and dropped in time like any join


def joins(core: Core) -> Any:
    return core.store.collection(JOINS)


def purge_at(core: Core) -> datetime:
    """When a join stored now may be dropped (unless its rules are accepted)."""
    return core.clock.now() + KEPT


def join_id(event_id: str) -> str:
    return derived_id("community-join", event_id)


async def move(
    core: Core, jid: str, field: str, before: str | list[str | None], after: str, **changes: Any
) -> dict[str, Any] | None:
    """Move `field` of the join from `before` to `after`; None if another run moved it."""
    return await joins(core).find_one_and_update(
        {"_id": jid, field: {"$in": [before] if isinstance(before, str) else before}},
        {"$set": {field: after, **changes}},
        return_document=ReturnDocument.AFTER,
    )


async def act(core: Core, community: Community, call: str, user_id: str) -> bool:
    """`restrict` (until lifted), `unrestrict` or `remove` the member through the channel's
    group administration; False (logged) where the platform cannot. A retryable delivery
    error is raised, so the consumer or timer that asked runs again."""
    channel_type = core.channels.get(community.channel_type)
    admin = channel_type.group_admin if channel_type is not None else None
    if admin is None:
        log.info("no group administration", extra={"community_id": community.id, "call": call})
        return False
    channel = await get_channel(core, community.workspace_id, community.channel_id, strict=False)
    chat = community.platform_chat_id
    try:
        if call == "restrict":
            await admin.restrict(core, channel, chat, user_id, None)
        elif call == "unrestrict":
            await admin.unrestrict(core, channel, chat, user_id)
        else:
            await admin.remove(core, channel, chat, user_id)
    except Unsupported as exc:
        log.info("group call unsupported: %s", exc, extra={"community_id": community.id})
        return False
    except DeliveryError as exc:
        if exc.retryable:
            raise
        log.warning("group call failed: %s", exc, extra={"community_id": community.id})
        return False
    return True


async def close_left(core: Core, event: Event) -> None:
    """`community.member_left`: a join still waiting for its rules to be accepted is closed
    (`left`) and given its `purge_at`; with no rules timeout nothing else would ever end it.
    Only joins up to the one that ended: a rejoin handled first keeps waiting."""
    joined_at = stored_time(event.data.get("joined_at"))
    query: dict[str, Any] = {
        "member_id": event.data.get("member_id"),
        "rules": RulesState.pending.value,
    }
    if joined_at is not None:
        query["at"] = {"$lte": joined_at}
    update = {
        "rules": RulesState.left.value,
        "left_at": core.clock.now(),
        "purge_at": purge_at(core),
    }
    await joins(core).update_many(query, {"$set": update})


def stored_time(value: Any) -> datetime | None:
    """A moment from an event's data (ISO text) or a document (naive UTC), aware."""
    if value is None:
        return None
    return aware(datetime.fromisoformat(value) if isinstance(value, str) else value)


@overload
async def conversation(core: Core, community: Community, customer_id: str) -> Conversation: ...


@overload
async def conversation(
    core: Core, community: Community, customer_id: None = None
) -> Conversation | None: ...


async def conversation(
    core: Core, community: Community, customer_id: str | None = None
) -> Conversation | None:
    """The group's conversation, where what is posted into the group goes. Where only joins
    were seen so far (a Slack channel nobody wrote in yet) it is opened on the first post, in
    the name of `customer_id` or else of a current member; None if there is no one."""
    found = await core.store.conversations.find_one({"_id": community.conversation_id})
    if found is not None:
        return Conversation.from_doc(found)
    if customer_id is None:
        member = await members(core).find_one(
            {"community_id": community.id, "status": MemberStatus.member.value}, {"customer_id": 1}
        )
        if member is None:
            return None
        customer_id = str(member["customer_id"])
    channel = await get_channel(core, community.workspace_id, community.channel_id, strict=False)
    group = ConversationGroup(
        id=community.platform_chat_id, title=community.title or None, kind=community.kind
    )
    return await ensure_conversation(
        core, channel, customer_id, community.platform_chat_id, None, group
    )
