"""Rewards for referrers: the `community-rewards` consumer.

When a credit brings a referrer's count in a community to a goal (`Referrals.goals`: at N,
or every N), the goal's reward is given: a tag, an attribute, and/or a message (with a
coupon code) on the referrer's own private conversation. Each (community, referrer, goal,
milestone) is one row in `community_rewards`, made once, so a goal is rewarded once even if
a revocation and a new credit bring the count back to it; every effect is idempotent (the
tag and attribute are only added when missing, the message id derives from the row) and the
row is marked done after them, so a retried event finishes a half-given reward.

A reward earned is a service message by default (the channel's reply window applies, not
marketing consent); a goal may call it marketing, and then the courtesy policy decides
(consent, reachable channel, quiet hours: a held message waits on a timer; the daily cap).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from kith.broadcasts.routes import conversation_for
from kith.communities.models import Community
from kith.communities.referrals import credited
from kith.communities.settings import Goal
from kith.communities.store import get_community
from kith.core.context import Core
from kith.core.customers import do_update_customer, get_customer
from kith.core.errors import NotFound
from kith.core.ids import derived_id
from kith.core.languages import customer_language
from kith.core.models import (
    Author,
    AuthorKind,
    Conversation,
    Customer,
    Event,
    OutboundContent,
    Purpose,
)
from kith.core.outbox import send
from kith.core.timers import Timer, schedule_timer
from kith.courtesy.policy import Go, Hold, Skip, decide, take_daily_slot

log = logging.getLogger(__name__)

REWARDS = "community_rewards"
TYPES = ("community.referral_credited",)
TIMER = "community-reward-message"
AUTHOR = Author(kind=AuthorKind.system, name="referrals")
MILESTONES_PER_EVENT = 100  # a goal `every: 1` met after a long outage gives at most these


def rewards(core: Core) -> Any:
    return core.store.collection(REWARDS)


def milestones(goal: Goal, count: int) -> list[int]:
    """The counts up to `count` at which `goal` is met."""
    if goal.at is not None:
        return [goal.at] if count >= goal.at else []
    assert goal.every is not None
    return list(range(goal.every, count + 1, goal.every))[-MILESTONES_PER_EVENT:]


def reward_id(community_id: str, referrer_id: str, goal_id: str, milestone: int) -> str:
    return derived_id("community-reward", community_id, referrer_id, goal_id, str(milestone))


async def consume(core: Core, event: Event) -> None:
    """The `community-rewards` consumer."""
    referrer_id = event.data.get("referrer_id")
    if not isinstance(referrer_id, str):
        return
    try:
        community = await get_community(core, event.workspace_id, str(event.data["community_id"]))
    except NotFound:
        return
    if not community.referrals.goals:
        return
    count = await credited(core, community.id, referrer_id)
    for goal in community.referrals.goals:
        for milestone in milestones(goal, count):
            await _give(core, community, referrer_id, goal, milestone)


async def _give(
    core: Core, community: Community, referrer_id: str, goal: Goal, milestone: int
) -> None:
    rid = reward_id(community.id, referrer_id, goal.id, milestone)
    row = await rewards(core).find_one({"_id": rid})
    if row is not None and row.get("done"):
        return
    if row is None:
        await rewards(core).update_one(
            {"_id": rid},
            {
                "$setOnInsert": {
                    "workspace_id": community.workspace_id,
                    "community_id": community.id,
                    "customer_id": referrer_id,
                    "goal_id": goal.id,
                    "milestone": milestone,
                    "created_at": core.clock.now(),
                    "done": False,
                }
            },
            upsert=True,
        )
    try:
        customer = await get_customer(core, community.workspace_id, referrer_id)
    except NotFound:
        return  # erased or merged away meanwhile
    await _tag_and_attribute(core, customer, goal)
    outcome: dict[str, Any] = {}
    if goal.message is not None:
        outcome = await _message(core, community, customer, goal, milestone, rid)
    await rewards(core).update_one({"_id": rid}, {"$set": {"done": True, **outcome}})


async def _tag_and_attribute(core: Core, customer: Customer, goal: Goal) -> None:
    fields: dict[str, Any] = {}
    if goal.tag is not None and goal.tag not in customer.tags:
        fields["tags"] = [*customer.tags, goal.tag]
    attributes = {
        k: v for k, v in (goal.attribute or {}).items() if customer.attributes.get(k) != v
    }
    if fields or attributes:
        await do_update_customer(core, customer, actor=AUTHOR, fields=fields, attributes=attributes)


async def _message(
    core: Core,
    community: Community,
    customer: Customer,
    goal: Goal,
    milestone: int,
    rid: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Send (or hold, or skip) the goal's message; what happened, for the reward's row."""
    assert goal.message is not None
    now = now or core.clock.now()
    mid = derived_id("community-reward-message", rid)
    marketing = goal.message.purpose == Purpose.marketing.value
    if marketing:
        decision = await decide(core, customer, _channel_types(community, customer), now, None)
        if isinstance(decision, Hold):
            await schedule_timer(core, f"{TIMER}:{rid}", TIMER, decision.until, {"reward_id": rid})
            return {"message": "held", "reason": decision.reason}
        if isinstance(decision, Skip):
            return {"message": "skipped", "reason": str(decision.reason)}
        assert isinstance(decision, Go)
        conversation = await conversation_for(core, customer.id, decision.route)
        if not await take_daily_slot(core, customer, now, mid):
            return {"message": "skipped", "reason": "frequency_cap"}
    else:
        found = await _private_conversation(core, community, customer)
        if found is None:
            return {"message": "skipped", "reason": "no_private_conversation"}
        conversation = found
    language = await customer_language(core, customer.id, conversation.id)
    texts = goal.message.texts
    text = texts.get(language or "") or texts.get("en") or next(iter(texts.values()))
    content = OutboundContent(
        text=text.replace("{count}", str(milestone)).replace(
            "{coupon}", goal.message.coupon_code or ""
        ),
        purpose=Purpose.marketing if marketing else Purpose.service,
    )
    await send(core, conversation, content, AUTHOR, message_id=mid)
    return {"message": "queued", "message_id": mid, "conversation_id": conversation.id}


def _channel_types(community: Community, customer: Customer) -> list[str]:
    """The community's own platform first, then the customer's others."""
    return list(dict.fromkeys([community.channel_type, *customer.channels]))


async def _private_conversation(
    core: Core, community: Community, customer: Customer
) -> Conversation | None:
    """The customer's latest one-to-one conversation (never a group's), preferring the
    community's own channel: on Telegram a bot may only write to users who started it."""
    query = {"workspace_id": customer.workspace_id, "customer_id": customer.id}
    cursor = core.store.conversations.find(query).sort([("last_message_at", -1)]).limit(50)
    private: list[Conversation] = []
    for doc in await cursor.to_list(None):
        conversation = Conversation.from_doc(doc)
        own = conversation.external_user_id
        if own and conversation.thread_key in (own, f"user:{own}"):
            private.append(conversation)
    same = [c for c in private if c.channel_id == community.channel_id]
    best = same or private
    return best[0] if best else None


async def on_timer(core: Core, timer: Timer) -> None:
    """A held marketing reward message whose quiet hours are over: decided again."""
    rid = str(timer.payload.get("reward_id", ""))
    row = await rewards(core).find_one({"_id": rid})
    if row is None or row.get("message") != "held":
        return
    try:
        community = await get_community(core, row["workspace_id"], row["community_id"])
        customer = await get_customer(core, row["workspace_id"], row["customer_id"])
    except NotFound:
        return
    goal = next((g for g in community.referrals.goals if g.id == row["goal_id"]), None)
    if goal is None or goal.message is None:
        return
    outcome = await _message(core, community, customer, goal, int(row["milestone"]), rid)
    await rewards(core).update_one({"_id": rid}, {"$set": outcome})
