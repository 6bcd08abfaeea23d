"""The `community-moderation` consumer: every message posted in a community whose moderation
is on is checked against its rules, in order (words, links, media, repeat, flood); the first
rule broken decides the actions (`kith.communities.moderation_actions`).

Flood and repeat are counted in MongoDB (`community_mod_recent`, one row per message, by the
time the platform says it was posted, `moderation_actions.posted_at`), so every `kith serve`
process counts the same messages, a rerun of the consumer counts nothing twice, and a backlog
delivered at once after downtime counts as it was posted, not as it arrived. An edit is
checked too, for what it now says (words, links, media: flood and repeat count posts, and an
edit posts nothing), once per edit.

Admins are never acted on: the group's creator and administrators, by the roster's role or,
for a message that broke a rule, by the platform's own list (`kith.communities.admins`),
posts made as the group itself (anonymous admins) and the linked channel's automatic
forwards, whether or not the connector marked them on the message's `group`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kith.communities import admins, appeals, roster
from kith.communities.models import BotStatus, Community, Member, MemberRole
from kith.communities.moderation_actions import Target, Violation, act
from kith.communities.moderation_rules import (
    Folded,
    banned_pattern,
    banned_word,
    fingerprint,
    has_link,
)
from kith.communities.roster import Chat
from kith.communities.settings import Moderation
from kith.communities.store import find_community, get_member
from kith.core.clock import aware
from kith.core.context import Core
from kith.core.models import Event

TYPES = ("message.received", "message.edited")
RECENT = "community_mod_recent"
KEPT = timedelta(days=1)  # recent rows live this long (longer than any window)
REPEAT_SCAN = 500  # copies of one message read per check
# Telegram's senders of posts made as the group (anonymous admins) and of the linked
# channel's automatic forwards, for when the connector left no mark on `group`.
ANONYMOUS_ADMIN = "1087968824"
CHANNEL_FORWARDS = "777000"
ADMIN_MARKS = ("admin", "automatic")  # set on `GroupRef` by the connector


def recent(core: Core) -> Any:
    return core.store.collection(RECENT)


async def consume(core: Core, event: Event) -> None:
    if event.type == "message.edited":
        await _edited(core, event)
        return
    group = event.data.get("group")
    if not group:
        await appeals.on_message(core, event)
        return
    if event.message_id is None:
        return
    community = await roster.see(core, _chat(event, group))
    if not _moderated(community):
        return
    message = await core.store.messages.find_one({"_id": event.message_id})
    if message is None or _posted_by_admins(community, message.get("group") or group):
        return
    await _moderate(core, community, message, str(group["sender"]), None)


async def _edited(core: Core, event: Event) -> None:
    """An edited post in a group, checked as it reads now. Its actions are keyed by the
    edit's time: a rerun, or a second event read after the same edit, acts once; the next
    edit is judged afresh."""
    message = await core.store.messages.find_one({"_id": event.message_id or ""})
    group = (message or {}).get("group")
    if message is None or not group or message.get("deleted") or not message.get("edited_at"):
        return
    community = await find_community(core, str(message["channel_id"]), str(group["id"]))
    if community is None or not _moderated(community) or _posted_by_admins(community, group):
        return
    await _moderate(core, community, message, str(group["sender"]), aware(message["edited_at"]))


def _moderated(community: Community) -> bool:
    return community.moderation.enabled and community.bot_status != BotStatus.left


async def _moderate(
    core: Core,
    community: Community,
    message: dict[str, Any],
    sender: str,
    edited_at: datetime | None,
) -> None:
    """Check one post (or its edit, at `edited_at`) and act on the first rule it breaks."""
    member = await get_member(core, community.id, sender)
    if member is not None and member.role == MemberRole.admin:
        return
    target = Target.of(message, sender, member, edited_at)
    violation = await _check(core, community, community.moderation, target, member)
    if violation is None:
        return
    if await admins.is_admin(core, community, sender, member):
        await recent(core).delete_one({"_id": target.message_id})  # an admin's post: uncounted
        return
    await act(core, community, violation, target)
    for other in violation.others:
        await _act_on_copy(core, community, violation, other)


def _posted_by_admins(community: Community, group: dict[str, Any]) -> bool:
    if any(group.get(mark) for mark in ADMIN_MARKS):
        return True
    sender = str(group.get("sender", ""))
    return sender in (ANONYMOUS_ADMIN, CHANNEL_FORWARDS, community.platform_chat_id)


async def _check(
    core: Core, community: Community, rules: Moderation, target: Target, member: Member | None
) -> Violation | None:
    text = Folded.of(target.text)
    at = target.at
    counted = Counted(0, []) if target.edit else await _count(core, community, rules, target)
    if rules.words.enabled:
        hit = banned_word(text, rules.words.words) or banned_pattern(text, rules.words.patterns)
        if hit is not None:
            return Violation("words", hit, rules.words.actions)
    if rules.links.enabled and _new(member, at, rules.links.min_days) and has_link(text):
        return Violation("links", None, rules.links.actions)
    if rules.media.enabled and target.media and _new(member, at, rules.media.min_days):
        return Violation("media", None, rules.media.actions)
    if rules.repeat.enabled and counted.copies:
        senders = {c["sender"] for c in counted.copies}
        if len(senders) >= rules.repeat.members:
            others = tuple(c["_id"] for c in counted.copies if c["_id"] != target.message_id)
            detail = f"{len(senders)} members"
            facts: dict[str, int | str] = {"members": len(senders)}
            window = rules.repeat.seconds
            return Violation("repeat", detail, rules.repeat.actions, window, others, facts)
    if rules.flood.enabled and counted.flood > rules.flood.messages:
        detail = f"{counted.flood} messages in {rules.flood.seconds} s"
        facts = {"messages": counted.flood, "seconds": rules.flood.seconds}
        window = rules.flood.seconds
        return Violation("flood", detail, rules.flood.actions, window, facts=facts)
    return None


def _new(member: Member | None, at: datetime, min_days: float) -> bool:
    """Joined less than `min_days` ago; a member the roster has not seen yet has just come."""
    if member is None:
        return True
    return aware(at) - aware(member.first_joined_at) < timedelta(days=min_days)


@dataclass(frozen=True)
class Counted:
    flood: int  # the sender's messages in the flood window, this one included
    copies: list[dict[str, Any]]  # messages with this one's fingerprint in the repeat window


async def _count(core: Core, community: Community, rules: Moderation, target: Target) -> Counted:
    """This message counted once (its id is the row's), then the windows read back."""
    if not (rules.flood.enabled or rules.repeat.enabled):
        return Counted(0, [])
    at = target.at
    print_ = fingerprint(target.text) if rules.repeat.enabled else None
    await recent(core).update_one(
        {"_id": target.message_id},
        {
            "$setOnInsert": {
                "workspace_id": community.workspace_id,
                "community_id": community.id,
                "customer_id": target.customer_id,
                "sender": target.sender,
                "at": at,
                "fingerprint": print_,
                "expires_at": at + KEPT,
            }
        },
        upsert=True,
    )
    flood = 0
    if rules.flood.enabled:
        since = at - timedelta(seconds=rules.flood.seconds)
        window = {"$gt": since, "$lte": at}
        flood = await recent(core).count_documents(
            {"community_id": community.id, "sender": target.sender, "at": window}
        )
    copies: list[dict[str, Any]] = []
    if print_ is not None:
        since = at - timedelta(seconds=rules.repeat.seconds)
        found = recent(core).find(
            {"community_id": community.id, "fingerprint": print_, "at": {"$gt": since, "$lte": at}},
            {"sender": 1},
        )
        copies = list(await found.limit(REPEAT_SCAN).to_list(REPEAT_SCAN))
    return Counted(flood, copies)


async def _act_on_copy(
    core: Core, community: Community, violation: Violation, message_id: str
) -> None:
    """An earlier copy of a repeated message, by another member (admins left alone)."""
    message = await core.store.messages.find_one({"_id": message_id})
    group = (message or {}).get("group")
    if message is None or not group or _posted_by_admins(community, group):
        return
    sender = str(group["sender"])
    member = await get_member(core, community.id, sender)
    if await admins.is_admin(core, community, sender, member):
        return
    await act(core, community, violation, Target.of(message, sender, member))


def _chat(event: Event, group: dict[str, Any]) -> Chat:
    return Chat(
        workspace_id=event.workspace_id,
        channel_id=str(event.data["channel_id"]),
        channel_type=str(event.data.get("channel_type", "")),
        platform_chat_id=str(group["id"]),
        title=group.get("title"),
        kind=group.get("kind"),
    )
