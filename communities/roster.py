"""The roster: communities seen, members joining, leaving and speaking, the bot's own
standing, and groups that moved to a new chat id. Each action is idempotent on the platform
update it comes from (a redelivered update changes nothing twice) and records a
`community.*` event that welcome, moderation and referrals react to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.communities import stats
from kith.communities.events import note
from kith.communities.models import BotStatus, Community, Member, MemberRole, MemberStatus, Span
from kith.communities.store import communities, community_id, find_community, member_id, members
from kith.core.context import Core
from kith.core.models import Author, AuthorKind
from kith.core.threads import conversation_id

SPANS_KEPT = 50  # stays remembered per member (the oldest dropped first)
ROSTER = Author(kind=AuthorKind.system, name="community")
ADMIN_ROLES = frozenset({"administrator", "creator", "admin", "owner"})


@dataclass(frozen=True)
class Chat:
    """A group as an update names it."""

    workspace_id: str
    channel_id: str
    channel_type: str
    platform_chat_id: str
    title: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Who:
    """A member as an update names them, resolved to a customer by the pipeline."""

    platform_user_id: str
    customer_id: str
    name: str | None = None
    role: str | None = None  # the platform's word (administrator, creator, member …)

    @property
    def member_role(self) -> MemberRole:
        if self.role in ADMIN_ROLES:
            return MemberRole.admin
        if self.role == "restricted":
            return MemberRole.restricted
        return MemberRole.member


async def see(core: Core, chat: Chat) -> Community:
    """The chat's community, made on first sight; a title that changed is kept up to date."""
    found = await find_community(core, chat.channel_id, chat.platform_chat_id)
    if found is not None:
        if chat.title and chat.title != found.title:
            await communities(core).update_one(
                {"_id": found.id}, {"$set": {"title": chat.title, "updated_at": _now(core)}}
            )
            found = found.model_copy(update={"title": chat.title})
        return found
    now = _now(core)
    community = Community(
        id=community_id(chat.channel_id, chat.platform_chat_id),
        workspace_id=chat.workspace_id,
        channel_id=chat.channel_id,
        channel_type=chat.channel_type,
        platform_chat_id=chat.platform_chat_id,
        title=chat.title or "",
        kind=chat.kind or "group",
        conversation_id=conversation_id(chat.workspace_id, chat.channel_id, chat.platform_chat_id),
        created_at=now,
        updated_at=now,
    )
    try:
        await communities(core).insert_one(community.to_doc())
    except DuplicateKeyError:  # seen at the same moment by another consumer
        again = await find_community(core, chat.channel_id, chat.platform_chat_id)
        assert again is not None
        return again
    await _record(core, community, "community.created", f"created:{community.id}", {})
    return community


async def join(
    core: Core, community: Community, who: Who, at: datetime, via: str | None, key: str
) -> Member | None:
    """`who` joined (through the invite link `via`, if any); None if they already were in
    (a redelivered update, or a join we learnt of by their speaking first)."""
    before = await members(core).find_one({"_id": member_id(community.id, who.platform_user_id)})
    if before is not None and before.get("status") == MemberStatus.member.value:
        return None
    span = Span(joined_at=at, via=via).stored()
    update: dict[str, Any] = {
        "$set": {
            "status": MemberStatus.member.value,
            "joined_at": at,
            "left_at": None,
            "customer_id": who.customer_id,
            "name": who.name,
            "role": who.member_role.value,
            "role_at": at,
        },
        "$push": {"spans": {"$each": [span], "$slice": -SPANS_KEPT}},
        "$setOnInsert": _new_member(community, who, at),
    }
    stay = {"status": {"$ne": MemberStatus.member.value}}
    try:
        doc = await members(core).find_one_and_update(
            {"_id": member_id(community.id, who.platform_user_id), **stay},
            update,
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:  # they are in already (another update got there first)
        return None
    member = Member.from_doc(doc)
    await _count(core, community, +1)
    await stats.add(core, community, at, joins=1)
    previous = Member.from_doc(before) if before is not None else None
    await _record(
        core,
        community,
        "community.member_joined",
        key,
        {
            "member_id": member.id,
            "platform_user_id": who.platform_user_id,
            "via": via,
            "joined_at": at.isoformat(),
            "last_left_at": previous.left_at.isoformat() if previous and previous.left_at else None,
        },
        customer_id=who.customer_id,
    )
    return member


async def leave(
    core: Core, community: Community, who: Who, at: datetime, key: str, removed: bool = False
) -> Member | None:
    """`who` left (or was removed); None if they were not in."""
    doc = await members(core).find_one({"_id": member_id(community.id, who.platform_user_id)})
    if doc is None or doc.get("status") != MemberStatus.member.value:
        return None
    spans = doc.get("spans") or [Span(joined_at=doc["joined_at"]).stored()]
    spans[-1] = {**spans[-1], "left_at": at, "removed": removed}
    status = MemberStatus.left  # a ban is the moderation's to record
    done = await members(core).find_one_and_update(
        {"_id": doc["_id"], "status": MemberStatus.member.value, "joined_at": doc["joined_at"]},
        {"$set": {"status": status.value, "left_at": at, "spans": spans}},
        return_document=ReturnDocument.AFTER,
    )
    if done is None:  # another update moved them first
        return None
    member = Member.from_doc(done)
    await _count(core, community, -1)
    await stats.add(core, community, at, leaves=1)
    last = member.spans[-1] if member.spans else None
    await _record(
        core,
        community,
        "community.member_left",
        key,
        {
            "member_id": member.id,
            "platform_user_id": who.platform_user_id,
            "joined_at": member.joined_at.isoformat(),
            "via": last.via if last else None,
            "removed": removed,
        },
        customer_id=who.customer_id,
    )
    return member


async def spoke(core: Core, community: Community, who: Who, at: datetime, message_id: str) -> None:
    """A message from `who`: counted once per message; a speaker we had not seen join is
    on the roster from now (they were in before the bot)."""
    mid = member_id(community.id, who.platform_user_id)
    counted = await members(core).update_one(
        {"_id": mid, "last_message_id": {"$ne": message_id}},
        {
            "$set": {"last_spoke_at": at, "last_message_id": message_id, "name": who.name},
            "$inc": {"message_count": 1},
        },
    )
    if counted.matched_count == 0:
        if await members(core).find_one({"_id": mid}, {"_id": 1}) is not None:
            return  # this message was counted already
        said = {"last_spoke_at": at, "last_message_id": message_id, "message_count": 1}
        if not await _appear(core, community, who, at, said):
            return  # a join or another message made them at the same moment
    await stats.add(core, community, at, messages=1, speaker=who.platform_user_id)


async def set_role(core: Core, community: Community, who: Who, at: datetime) -> None:
    """`who` was promoted, demoted or restricted while in (`who.role`, Telegram's status). An
    older change arriving late (updates are not ordered across redeliveries) is not applied
    over a newer one; someone the roster had not seen (in before the bot) is on it from now."""
    mid = member_id(community.id, who.platform_user_id)
    newer = {"$or": [{"role_at": None}, {"role_at": {"$lte": at}}]}
    done = await members(core).update_one(
        {"_id": mid, "status": MemberStatus.member.value, **newer},
        {"$set": {"role": who.member_role.value, "role_at": at, "name": who.name}},
    )
    if done.matched_count or await members(core).find_one({"_id": mid}, {"_id": 1}) is not None:
        return
    await _appear(core, community, who, at, {})


async def learnt_admin(core: Core, community: Community, platform_user_id: str) -> None:
    """The platform lists them among the group's administrators (moderation asked): the
    roster says so too, unless it already does or they are not on it."""
    await members(core).update_one(
        {
            "_id": member_id(community.id, platform_user_id),
            "status": MemberStatus.member.value,
            "role": {"$ne": MemberRole.admin.value},
        },
        {"$set": {"role": MemberRole.admin.value, "role_at": _now(core)}},
    )


async def _appear(
    core: Core, community: Community, who: Who, at: datetime, fields: dict[str, Any]
) -> bool:
    """Someone in the group before the bot, first seen now, on the roster (counted); False
    if another update put them there at the same moment."""
    try:
        await members(core).insert_one(
            {
                **_new_member(community, who, at),
                "_id": member_id(community.id, who.platform_user_id),
                "status": MemberStatus.member.value,
                "customer_id": who.customer_id,
                "name": who.name,
                "role": who.member_role.value,
                "role_at": at,
                "joined_at": at,
                "spans": [Span(joined_at=at).stored()],
                **fields,
            }
        )
    except DuplicateKeyError:
        return False
    await _count(core, community, +1)
    return True


async def set_bot_status(core: Core, community: Community, status: BotStatus) -> Community:
    """Our bot was added, promoted, demoted or removed."""
    if status == community.bot_status:
        return community
    await communities(core).update_one(
        {"_id": community.id}, {"$set": {"bot_status": status.value, "updated_at": _now(core)}}
    )
    key = f"bot:{community.id}:{status.value}:{_now(core).isoformat()}"
    await _record(core, community, "community.bot_status", key, {"bot_status": status.value})
    return community.model_copy(update={"bot_status": status})


async def migrate(core: Core, community: Community, new_chat_id: str) -> Community:
    """The group became a supergroup under a new chat id: the community (its roster, its
    settings, its figures) follows, and its conversation is the new chat's."""
    if community.platform_chat_id == new_chat_id:
        return community
    moved = {
        "platform_chat_id": new_chat_id,
        "conversation_id": conversation_id(
            community.workspace_id, community.channel_id, new_chat_id
        ),
        "kind": "supergroup",
        "updated_at": _now(core),
    }
    await communities(core).update_one(
        {"_id": community.id},
        {"$set": moved, "$addToSet": {"migrated_from": community.platform_chat_id}},
    )
    key = f"migrated:{community.id}:{new_chat_id}"
    await _record(core, community, "community.migrated", key, {"platform_chat_id": new_chat_id})
    return community.model_copy(update=moved)


def _new_member(community: Community, who: Who, at: datetime) -> dict[str, Any]:
    return {
        "workspace_id": community.workspace_id,
        "community_id": community.id,
        "platform_user_id": who.platform_user_id,
        "first_joined_at": at,
    }


async def uncount(core: Core, community: Community) -> None:
    """One member fewer, without a leave to record (an erasure takes them off)."""
    await _count(core, community, -1)


async def _count(core: Core, community: Community, delta: int) -> None:
    await communities(core).update_one({"_id": community.id}, {"$inc": {"member_count": delta}})


async def _record(
    core: Core,
    community: Community,
    type_: str,
    key: str,
    data: dict[str, Any],
    customer_id: str | None = None,
) -> None:
    """The roster's events also name the channel."""
    data = {"channel_id": community.channel_id, **data}
    await note(core, community, type_, key, data, customer_id, actor=ROSTER)


def _now(core: Core) -> datetime:
    return core.clock.now()
