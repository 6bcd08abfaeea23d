"""Rules a new member accepts before they may post: restricted on joining, lifted when they
press the welcome's "I accept the rules" button (its payload names them: a press by anyone
else does nothing), removed by a durable timer when they have not accepted in time (with no
timeout set, they stay restricted until they accept).
Admins are never restricted (the welcome decides who is asked).

A raid's members are asked too, once it passes (`ask_raid`): the raid's one summary carries
one accept button naming the raid, and a press lifts the presser's restriction if they are
one of its members still waiting; the same timeout removes those who never press. Where the
platform cannot remove someone, their restriction is lifted instead: nobody stays muted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kith.communities import roster
from kith.communities.joins import Mode, RulesState, act, joins, move, note, stored_time
from kith.communities.models import Community
from kith.communities.store import communities
from kith.core.context import Core
from kith.core.models import Event, Message
from kith.core.timers import Timer, cancel_timer, schedule_timer

PREFIX = "kith-rules:"
RAID = "raid:"
TIMEOUT_TIMER = "community.rules_timeout"
ACCEPT = {"en": "I accept the rules", "zh": "我已阅读并同意群规"}


def payload(member_id: str) -> str:
    """The accept button's payload (Telegram allows 64 bytes: a member id is 24)."""
    return f"{PREFIX}{member_id}"


def raid_payload(raid_id: str) -> str:
    """The raid summary's accept button: it names the raid, not one member (40 bytes)."""
    return f"{PREFIX}{RAID}{raid_id}"


def _timer_key(jid: str) -> str:
    return f"community-rules:{jid}"


async def load_community(core: Core, cid: str) -> Community | None:
    doc = await communities(core).find_one({"_id": cid})
    return Community.from_doc(doc) if doc else None


async def accepted_before(core: Core, member_id: str) -> bool:
    """Whether the member accepted the rules on an earlier join (not asked again)."""
    found = await joins(core).find_one(
        {"member_id": member_id, "rules": RulesState.accepted.value}, {"_id": 1}
    )
    return found is not None


async def require(core: Core, community: Community, join: dict[str, Any]) -> None:
    """Restrict the member until they accept, and remove them if they have not by the
    timeout. Run again (a retried consumer), it restricts again and keeps the same timer."""
    now = core.clock.now()
    doc = await move(core, join["_id"], "rules", [None], RulesState.pending, rules_since=now)
    if doc is None:
        doc = await joins(core).find_one({"_id": join["_id"]})
        if doc is None or doc.get("rules") != RulesState.pending:
            return
    if doc.get("mode") == Mode.raid:  # a raid took it meanwhile: its hold replaces this one
        await waive(core, doc)
        return
    if await act(core, community, "restrict", doc["platform_user_id"]):
        await joins(core).update_one({"_id": doc["_id"]}, {"$set": {"restricted": True}})
    await _deadline(core, community, doc, now)


async def waive(core: Core, join: dict[str, Any]) -> None:
    """A raid took the join: its restriction lasts until the raid passes, when the member is
    asked again (`ask_raid`)."""
    if await move(core, join["_id"], "rules", RulesState.pending, RulesState.waived):
        await cancel_timer(core, _timer_key(join["_id"]))


async def ask_raid(core: Core, community: Community, join: dict[str, Any]) -> bool:
    """The raid passed and this restricted member has not accepted the rules: they wait for
    a press of the summary's button, and are removed at the timeout like anyone asked. False
    when there is nothing to ask (no rules, accepted before): the caller lifts them."""
    if not community.rules.enabled or await accepted_before(core, join["member_id"]):
        return False
    now = core.clock.now()
    states: list[str | None] = [None, RulesState.waived.value]
    doc = await move(core, join["_id"], "rules", states, RulesState.pending, rules_since=now)
    if doc is None:
        doc = await joins(core).find_one({"_id": join["_id"]})
        if doc is None or doc.get("rules") != RulesState.pending:
            return False  # accepted, expired or lifted meanwhile
    await _deadline(core, community, doc, now)
    return True


async def _deadline(core: Core, community: Community, doc: dict[str, Any], now: datetime) -> None:
    """The timer that removes the member if they have not accepted by the timeout; with no
    timeout, none: the join is kept (no `purge_at`) so that a press, however late, lifts
    them."""
    timeout = community.rules.timeout_minutes
    if timeout is None:
        await joins(core).update_one({"_id": doc["_id"]}, {"$set": {"purge_at": None}})
        return
    since = stored_time(doc["rules_since"]) or now
    due = since + timedelta(minutes=timeout)
    await schedule_timer(core, _timer_key(doc["_id"]), TIMEOUT_TIMER, due, {"join_id": doc["_id"]})


def is_rules_press(message: Message) -> bool:
    return bool(message.payload and message.payload.startswith(PREFIX))


async def answers(core: Core, message: Message) -> bool:
    """The bots stay quiet on a press of the accept button (it is ours to answer)."""
    return is_rules_press(message)


async def on_message(core: Core, event: Event) -> None:
    """A press of an accept button: lifts the restriction of the member it names, when that
    member pressed it in their community's conversation."""
    if event.message_id is None:
        return
    doc = await core.store.messages.find_one({"_id": event.message_id})
    if doc is None:
        return
    message = Message.from_doc(doc)
    if not is_rules_press(message):
        return
    join = await _pressed_join(core, message)
    if join is None or join["customer_id"] != message.customer_id:
        return  # not theirs to accept
    member_id = join["member_id"]
    community = await load_community(core, join["community_id"])
    if community is None or message.conversation_id != community.conversation_id:
        return
    done = await move(
        core,
        join["_id"],
        "rules",
        RulesState.pending,
        RulesState.accepted,
        accepted_at=message.created_at,
        accepted_message_id=message.id,
        purge_at=None,  # kept: accepted once, never asked again
    )
    if done is None and join.get("accepted_message_id") != message.id:
        return  # accepted already, by an earlier press
    await act(core, community, "unrestrict", join["platform_user_id"])
    await joins(core).update_one({"_id": join["_id"]}, {"$set": {"lifted": True}})
    await cancel_timer(core, _timer_key(join["_id"]))
    await note(
        core,
        community,
        "community.rules_accepted",
        join["_id"],
        {"member_id": member_id, "platform_user_id": join["platform_user_id"]},
        customer_id=join["customer_id"],
    )


async def _pressed_join(core: Core, message: Message) -> dict[str, Any] | None:
    """The join a press answers: the member the welcome's button names, or, on a raid's
    summary, the presser's own join in that raid."""
    named = (message.payload or "")[len(PREFIX) :]
    states = [RulesState.pending.value, RulesState.accepted.value]
    if named.startswith(RAID):
        query = {"raid_id": named[len(RAID) :], "customer_id": message.customer_id}
    else:
        query = {"member_id": named}
    found: dict[str, Any] | None = await joins(core).find_one(
        {**query, "rules": {"$in": states}}, sort=[("at", -1)]
    )
    return found


async def run_timeout(core: Core, timer: Timer) -> None:
    """Not accepted in time: removed (they may join again) and off the roster; where the
    platform cannot remove them, recorded and their restriction lifted."""
    jid = str(timer.payload["join_id"])
    now = core.clock.now()
    doc = await move(core, jid, "rules", RulesState.pending, RulesState.expired, expired_at=now)
    if doc is None:
        doc = await joins(core).find_one({"_id": jid})
        if doc is None or doc.get("rules") != RulesState.expired:
            return
    community = await load_community(core, doc["community_id"])
    if community is None:
        return
    if await act(core, community, "remove", doc["platform_user_id"]):
        who = roster.Who(doc["platform_user_id"], doc["customer_id"], doc.get("name"))
        await roster.leave(core, community, who, now, f"rules-expired:{jid}", removed=True)
    elif doc.get("restricted") and not doc.get("lifted"):  # not removed: not muted for good
        await act(core, community, "unrestrict", doc["platform_user_id"])
        await joins(core).update_one({"_id": jid}, {"$set": {"lifted": True}})
    await note(
        core,
        community,
        "community.rules_expired",
        jid,
        {"member_id": doc["member_id"], "platform_user_id": doc["platform_user_id"]},
        customer_id=doc["customer_id"],
    )
