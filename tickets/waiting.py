"""The waiting rule's sweep: customers left longer than `waiting_minutes` without a person's
answer.

Conversations already keep `waiting_since` (the customer's oldest message no person answered,
cleared by an agent's reply or a resolution) under an index on (workspace, status,
waiting_since), so no timer per conversation is needed: one durable cron timer per workspace
(fired once across all processes, `kith.core.timers`) reads the open conversations whose wait
crossed the limit since its last sweep, in index order, and records
`conversation.wait_exceeded` for each, with an id derived from the conversation and the
moment its wait began. The tickets consumer turns that into a ticket (or a note), in the
conversation's own event order, so a wait is acted on once however often a sweep is run
again. A new wait starts later than any sweep's cutoff, so the window from the last sweep
finds it; a conversation snoozed or with a bot while its wait crossed the limit is not
revisited (a bot's handover restarts the wait).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.ids import derived_id
from kith.core.models import ConversationStatus
from kith.core.timers import Cron, Timer, schedule_timer
from kith.tickets.rules import RULES
from kith.tickets.settings import get_settings

SWEEP_TIMER = "tickets.waiting"
SWEEPS = "ticket_sweeps"  # per workspace: the cutoff the last sweep reached
EVERY_MINUTE = Cron("* * * * *")
FIRST_LOOKBACK = timedelta(days=1)
BATCH = 500
WAIT_EXCEEDED = "conversation.wait_exceeded"


class SweepTimers:
    """Makes sure each workspace that receives messages has its sweep timer (checked once
    per workspace per process; scheduling is idempotent across processes)."""

    def __init__(self) -> None:
        self.ensured: set[str] = set()

    async def ensure(self, core: Core, workspace_id: str) -> None:
        if workspace_id in self.ensured:
            return
        key = f"{SWEEP_TIMER}:{workspace_id}"
        if await core.store.timers.find_one({"_id": key}, {"_id": 1}) is None:
            await schedule_timer(
                core, key, SWEEP_TIMER, EVERY_MINUTE, {"workspace_id": workspace_id}
            )
        self.ensured.add(workspace_id)


async def sweep(core: Core, workspace_id: str) -> int:
    """Record `conversation.wait_exceeded` for every open conversation whose wait crossed the
    limit since the last sweep; returns how many. Off, it only moves the cutoff on (turning
    the rule on later does not flag old waits)."""
    settings = await get_settings(core, workspace_id)
    cutoff = core.clock.now() - timedelta(minutes=settings.waiting_minutes)
    sweeps = core.store.collection(SWEEPS)
    state = await sweeps.find_one({"_id": workspace_id})
    since: datetime = state["until"] if state else cutoff - FIRST_LOOKBACK
    found, first = 0, True
    while settings.waiting_enabled and since < cutoff:
        batch = await _waiting(core, workspace_id, since, cutoff, inclusive=not first)
        for doc in batch:
            await _exceeded(core, workspace_id, doc, settings.waiting_minutes)
        found += len(batch)
        if len(batch) < BATCH or batch[-1]["waiting_since"] == since:
            break
        # The next batch starts where this one ended (ties again: their events are the same).
        since, first = batch[-1]["waiting_since"], False
        await sweeps.update_one({"_id": workspace_id}, {"$set": {"until": since}}, upsert=True)
    if cutoff > since:
        await sweeps.update_one({"_id": workspace_id}, {"$set": {"until": cutoff}}, upsert=True)
    return found


async def _waiting(
    core: Core, workspace_id: str, since: datetime, cutoff: datetime, *, inclusive: bool
) -> list[dict[str, Any]]:
    query = {
        "workspace_id": workspace_id,
        "status": ConversationStatus.open.value,
        "waiting_since": {"$gte" if inclusive else "$gt": since, "$lte": cutoff},
    }
    fields = {"waiting_since": 1, "customer_id": 1}
    cursor = core.store.conversations.find(query, fields).sort([("waiting_since", 1), ("_id", 1)])
    return list(await cursor.limit(BATCH).to_list(BATCH))


async def _exceeded(core: Core, workspace_id: str, doc: dict[str, Any], minutes: int) -> None:
    began: datetime = doc["waiting_since"]
    event = build_event(
        core,
        workspace_id,
        WAIT_EXCEEDED,
        actor=RULES,
        event_id=derived_id(WAIT_EXCEEDED, doc["_id"], began.isoformat()),
        conversation_id=doc["_id"],
        customer_id=doc.get("customer_id"),
        data={"waiting_since": began.isoformat(), "minutes": minutes},
    )
    await record(core, event)


async def on_sweep_timer(core: Core, timer: Timer) -> None:
    await sweep(core, timer.payload["workspace_id"])
