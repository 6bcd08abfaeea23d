"""The welcome: for each `community.member_joined`, a message posted into the group (an
ordinary outbound message on the group's conversation, so the outbox paces it within the
platform's limits: Telegram's 20 a minute per group), in the member's language, carrying the
rules and their accept button when the community has rules.

A welcome waits `Welcome.delay_seconds` on a durable timer, so that a burst of joins is seen
as a raid (`kith.communities.raid`) before anyone in it is welcomed one by one. It is posted
once per join (the message's id derives from the join), and not at all for a member back
within `rejoin_quiet_days` who has nothing left to accept. A member moderation acted on
since they joined (a spammer's link deleted during the pause) is not greeted: only the rules
and their button are posted, if they have rules to accept."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kith.communities import raid, rules
from kith.communities.audit import Outcome, audit
from kith.communities.joins import AUTHOR, Mode, RulesState, conversation, join_id, joins, move
from kith.communities.joins import stored_time as read_time
from kith.communities.models import BotStatus, Community, Member, MemberRole
from kith.communities.store import members
from kith.communities.texts import fill_name, pick
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.languages import customer_language, language_of_locale
from kith.core.models import Button, Event, OutboundContent
from kith.core.outbox import send
from kith.core.timers import Timer, schedule_timer

WELCOME_TIMER = "community.welcome"
WELCOME = {"en": "Welcome, {name}!", "zh": "欢迎 {name} 加入本群！"}
RULES = {
    "en": "Please accept the group's rules with the button below before you post.",
    "zh": "发言前请点击下方按钮，同意本群群规。",
}


async def on_join(core: Core, event: Event) -> None:
    """The consumer of `community.member_joined`."""
    community = await rules.load_community(core, str(event.data.get("community_id")))
    if community is None or community.bot_status == BotStatus.left:
        return
    if not (community.welcome.enabled or community.rules.enabled):
        return
    doc = await members(core).find_one({"_id": event.data.get("member_id")})
    if doc is None:
        return
    member = Member.from_doc(doc)
    at = read_time(event.data.get("joined_at")) or event.created_at
    if core.clock.now() - at > timedelta(hours=community.welcome.late_hours):
        return  # learnt of long after (an outage, a history replayed): too late to greet
    join = await raid.admit(core, community, join_id(event.id), member, at)
    if join["mode"] != Mode.pending:
        return
    asked = (
        community.rules.enabled
        and member.role != MemberRole.admin
        and not await rules.accepted_before(core, member.id)
    )
    if asked:
        await rules.require(core, community, join)
    back = _back_soon(community, at, read_time(event.data.get("last_left_at")))
    if not asked and (back or not community.welcome.enabled):
        await move(core, join["_id"], "mode", Mode.pending, Mode.quiet)
        return
    due = core.clock.now() + timedelta(seconds=community.welcome.delay_seconds)
    key = f"community-welcome:{join['_id']}"
    await schedule_timer(core, key, WELCOME_TIMER, due, {"join_id": join["_id"]})


def _back_soon(community: Community, at: datetime, left_at: datetime | None) -> bool:
    quiet = timedelta(days=community.welcome.rejoin_quiet_days)
    return left_at is not None and at - left_at < quiet


async def run_welcome(core: Core, timer: Timer) -> None:
    """Post the welcome unless a raid took the join meanwhile."""
    jid = str(timer.payload["join_id"])
    now = core.clock.now()
    join = await move(core, jid, "mode", Mode.pending, Mode.welcomed, welcomed_at=now)
    if join is None:
        join = await joins(core).find_one({"_id": jid})
        if join is None or join["mode"] != Mode.welcomed:
            return
    community = await rules.load_community(core, join["community_id"])
    if community is None:
        return
    language = await member_language(core, community, join["customer_id"])
    languages = [language or "", community.welcome.language]
    parts = []
    if community.welcome.enabled and not await _moderated_since(core, join):
        parts.append(fill_name(pick(WELCOME, community.welcome.texts, languages), join["name"]))
    buttons = []
    if join.get("rules") in (RulesState.pending, RulesState.accepted):
        parts.append(fill_name(pick(RULES, community.rules.texts, languages), join["name"]))
        channel_type = core.channels.get(community.channel_type)
        if channel_type is not None and channel_type.capabilities.buttons:
            label = pick(rules.ACCEPT, community.rules.button, languages)
            buttons.append(Button(label=label[:64], payload=rules.payload(join["member_id"])))
    text = "\n\n".join(p for p in parts if p)
    if not text:
        return
    talk = await conversation(core, community, join["customer_id"])
    content = OutboundContent(text=text, buttons=buttons)
    await send(core, talk, content, AUTHOR, message_id=derived_id("community-welcome", jid))


async def _moderated_since(core: Core, join: dict[str, Any]) -> bool:
    """Whether a moderation rule acted on the member since they joined (taken, not lifted)."""
    found = await audit(core).find_one(
        {
            "community_id": join["community_id"],
            "platform_user_id": join["platform_user_id"],
            "action": {"$ne": "lift"},
            "outcome": Outcome.taken.value,
            "lifted_at": None,
            "at": {"$gte": read_time(join.get("at")) or join["seen_at"]},
        },
        {"_id": 1},
    )
    return found is not None


async def member_language(core: Core, community: Community, customer_id: str) -> str | None:
    """`kith.core.languages`' rule, read on the member's own latest conversation (the group's
    is everyone's); with none, their profile's locale (Telegram's `language_code`)."""
    own = await core.store.conversations.find_one(
        {"customer_id": customer_id, "_id": {"$ne": community.conversation_id}},
        {"_id": 1},
        sort=[("last_message_at", -1)],
    )
    if own is not None:
        return await customer_language(core, customer_id, str(own["_id"]))
    customer = await core.store.customers.find_one({"_id": customer_id}, {"locale": 1})
    return language_of_locale((customer or {}).get("locale"))
