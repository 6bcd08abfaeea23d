"""While a visitor waits for a person: how long the team usually takes, or when it is back.

A conversation waits for a person when it is open (not with a bot) and has `waiting_since`
(the customer's oldest message no person answered; the same rule as the tickets' waiting
sweep). The usual wait is the median first response of the channel's latest `SAMPLE`
conversations (by last message) that a person answered: from the moment the customer began
waiting for a person (a bot's hand-off, `conversation.handoff`; else the conversation's start)
to the team's first reply (a person's or the API's; bots and notes do not count): the minutes
a bot spent answering are not the team's. "Recent" is a count,
not a span of time, so a quiet channel keeps its figure and a fast clock (the demo's, an hour a
second) cannot empty it. It reads the channel's conversations latest first, `SAMPLE` at a time
through the (workspace, channel, last message) index, with one aggregation of each page's
replies, and stops after `SCAN` conversations however few were answered; the figure is kept
`CACHE` of real time per channel in each process, so a page load never scans a channel's history.

Closed (`kith.core.features.next_opening`: the channel's bot's business hours, the hours its
hand-off's away text speaks of), the widget says when the team is back instead.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from kith.core.clock import aware, wall
from kith.core.context import Core
from kith.core.features import next_opening
from kith.core.models import AuthorKind, Channel, ConversationStatus, Direction
from kith.core.pagination import page

SAMPLE = 200
SCAN = 5 * SAMPLE  # conversations read at most, answered or not
MIN_SAMPLES = 3  # fewer first replies than this: too little to promise anything
CACHE = timedelta(minutes=5)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HANDOFF = "conversation.handoff"  # a bot gave the conversation to the team


class Opening(BaseModel):
    day: str = Field(description="mon…sun, in the business's time zone.")
    time: str = Field(description="HH:MM, in the business's time zone.")


class WaitAnswer(BaseModel):
    waiting: bool = Field(description="The visitor's conversation waits for a person.")
    reply_minutes: int | None = Field(
        default=None, description="The channel's usual first reply, when it is open and knows."
    )
    back_at: Opening | None = Field(default=None, description="When the team is back, if away.")
    ask_email: bool = Field(
        default=False, description="Waiting, and Kith has no email for the visitor."
    )


@dataclass
class _Known:
    until: datetime
    minutes: int | None


_ESTIMATES: dict[str, _Known] = {}  # by channel id: derived figures, safe in any process


async def usual_reply(core: Core, channel: Channel) -> int | None:
    """`median_first_reply`, worked out at most once per `CACHE` per channel."""
    now = wall(core.clock).now()
    hit = _ESTIMATES.get(channel.id)
    if hit is None or now >= hit.until:
        hit = _ESTIMATES[channel.id] = _Known(now + CACHE, await median_first_reply(core, channel))
    return hit.minutes


async def median_first_reply(core: Core, channel: Channel) -> int | None:
    """Whole minutes (at least 1), or None without `MIN_SAMPLES` answered conversations."""
    query = {"workspace_id": channel.workspace_id, "channel_id": channel.id}
    waits: list[float] = []
    cursor: str | None = None
    for _ in range(SCAN // SAMPLE):
        convs, cursor = await page(
            core.store.conversations,
            query,
            "last_message_at",
            cursor=cursor,
            limit=SAMPLE,
            descending=True,
            projection={"created_at": 1, "last_message_at": 1},
        )
        waits += (await _first_replies(core, convs))[: SAMPLE - len(waits)]
        if cursor is None or len(waits) >= SAMPLE:
            break
    if len(waits) < MIN_SAMPLES:
        return None
    return max(1, math.ceil(statistics.median(waits) / 60))


async def _first_replies(core: Core, convs: list[dict[str, Any]]) -> list[float]:
    """Seconds from each of `convs`' wait for a person to its first reply, latest
    conversation first; unanswered ones left out. A person who answered before any hand-off
    (stepping in while the bot talked) is counted from the conversation's start."""
    began = {d["_id"]: aware(d["created_at"]) for d in convs}
    replied = {
        "direction": Direction.outbound.value,
        "author.kind": AuthorKind.agent.value,
        "private": {"$ne": True},
    }
    firsts = await _earliest(core.store.messages, list(began), replied)
    handed = await _earliest(core.store.events, list(firsts), {"type": HANDOFF})
    waits = []
    for conversation, start in began.items():
        if conversation not in firsts:
            continue
        handoff = handed.get(conversation)
        if handoff is not None and handoff <= firsts[conversation]:
            start = handoff
        waits.append((firsts[conversation] - start).total_seconds())
    return [w for w in waits if w >= 0]


async def _earliest(
    collection: Any, conversation_ids: list[str], match: dict[str, Any]
) -> dict[str, datetime]:
    """The earliest `created_at` of the documents matching `match` in each conversation."""
    if not conversation_ids:
        return {}
    aggregated = await collection.aggregate(
        [
            {"$match": {"conversation_id": {"$in": conversation_ids}, **match}},
            {"$group": {"_id": "$conversation_id", "first": {"$min": "$created_at"}}},
        ]
    )
    found = await aggregated.to_list(len(conversation_ids))
    return {d["_id"]: aware(d["first"]) for d in found}


async def wait_state(core: Core, channel: Channel, conversation_id: str) -> WaitAnswer:
    """What the widget says while the visitor's conversation waits (nothing when it does not)."""
    conv = await core.store.conversations.find_one(
        {"_id": conversation_id}, {"status": 1, "waiting_since": 1, "customer_id": 1}
    )
    if (
        conv is None
        or conv.get("status") != ConversationStatus.open.value
        or conv.get("waiting_since") is None
    ):
        return WaitAnswer(waiting=False)
    customer = await core.store.customers.find_one(
        {"_id": conv["customer_id"], "merged_into": None}, {"emails": 1}
    )
    ask_email = customer is not None and not customer.get("emails")
    opens = await next_opening(core, channel)
    if opens is not None:
        back = Opening(day=DAYS[opens.weekday()], time=opens.strftime("%H:%M"))
        return WaitAnswer(waiting=True, back_at=back, ask_email=ask_email)
    minutes = await usual_reply(core, channel)
    return WaitAnswer(waiting=True, reply_minutes=minutes, ask_email=ask_email)
