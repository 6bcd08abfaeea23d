"""Choosing and claiming the outbox's next messages: due, whose turn it is, fairly.

A message is claimed with a lease written into its document, so any number of workers in any
number of processes share the work and a dead worker's messages come back when its lease
runs out. Only a conversation's earliest pending message (its head) is ever claimed, so its
replies go out one at a time and in order across all processes; a later one whose head waits
for a retry is moved to the head's time (no attempt spent) so that it stops coming up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from kith.core.context import Core
from kith.core.models import DeliveryStatus, Message
from kith.core.outbox_slots import Flight, Slots

PENDING = DeliveryStatus.pending.value


def unleased(now: datetime) -> dict[str, Any]:
    """No worker holds the message (never leased, or its lease ran out)."""
    return {"$or": [{"delivery.lease_until": None}, {"delivery.lease_until": {"$lte": now}}]}


@dataclass(frozen=True)
class Head:
    """A conversation's earliest pending message."""

    message_id: str
    due: datetime | None


class Claims:
    def __init__(self, core: Core, owner: str, slots: Slots) -> None:
        self.core = core
        self.owner = owner
        self.slots = slots

    async def take(self, budget: int) -> AsyncIterator[Message]:
        """Claim up to `budget` messages: those below their fair share first, then (only if
        fairness held someone back) anyone below the caps. The caller starts each one before
        the next is chosen."""
        skipped: set[str] = set()  # conversations whose turn it is not, in this pass
        for fair in (True, False):
            held_back = False
            while budget > 0 and self.slots.free > 0:
                limit = max(2 * budget, 16)
                held_back |= self.slots.full(fair) != self.slots.full(False)
                batch = await self._candidates(skipped, fair, limit)
                heads = await self._heads({doc["conversation_id"] for doc in batch})
                progress = False
                for doc in batch:
                    if budget <= 0 or self.slots.free <= 0:
                        return
                    conversation, flight = doc["conversation_id"], Flight.of_doc(doc)
                    if conversation in skipped or not self.slots.fits(flight, fair):
                        held_back |= self.slots.fits(flight, False)
                        continue
                    progress = True
                    message = await self._claim_turn(doc["_id"], heads.get(conversation))
                    if message is None:
                        skipped.add(conversation)
                        continue
                    budget -= 1
                    yield message
                if not progress or len(batch) < limit:
                    break  # nothing more to see at this level
            if not held_back:
                return

    async def _candidates(self, skipped: set[str], fair: bool, limit: int) -> list[dict[str, Any]]:
        """Due, unleased messages, oldest first, leaving out whoever may take no slot now."""
        now = self.core.clock.now()
        channels, workspaces = self.slots.full(fair)
        query: dict[str, Any] = {
            "delivery.status": PENDING,
            "delivery.next_attempt_at": {"$lte": now},
            **unleased(now),
        }
        conversations = [*skipped, *self.slots.busy_conversations()]
        if conversations:
            query["conversation_id"] = {"$nin": conversations}
        if channels:
            query["channel_id"] = {"$nin": channels}
        if workspaces:
            query["workspace_id"] = {"$nin": workspaces}
        cursor = self.core.store.messages.find(
            query,
            projection={"conversation_id": 1, "channel_id": 1, "workspace_id": 1},
            sort=[("delivery.next_attempt_at", 1)],
            limit=limit,
        )
        return [doc async for doc in cursor]

    async def _heads(self, conversations: set[str]) -> dict[str, Head]:
        """Each conversation's earliest pending message, in one query for the batch (a find,
        not a `$group`: the embedded engine copies every document into an aggregation)."""
        cursor = self.core.store.messages.find(
            {"conversation_id": {"$in": sorted(conversations)}, "delivery.status": PENDING},
            projection={"conversation_id": 1, "delivery.next_attempt_at": 1},
            sort=[("created_at", 1), ("_id", 1)],
        )
        heads: dict[str, Head] = {}
        async for doc in cursor:
            due = doc["delivery"].get("next_attempt_at")
            heads.setdefault(doc["conversation_id"], Head(doc["_id"], due))
        return heads

    async def _claim_turn(self, candidate_id: str, head: Head | None) -> Message | None:
        """Claim the candidate's conversation's head if it is due and free."""
        messages = self.core.store.messages
        now = self.core.clock.now()
        if head is None:  # delivered meanwhile
            return None
        if head.message_id != candidate_id and head.due is not None and head.due > now:
            await messages.update_one(
                {"_id": candidate_id, **unleased(now)},
                {"$max": {"delivery.next_attempt_at": head.due}},
            )
            return None
        lease = timedelta(seconds=self.core.settings.outbox_lease_seconds)
        doc = await messages.find_one_and_update(
            {
                "_id": head.message_id,
                "delivery.status": PENDING,
                "delivery.next_attempt_at": {"$lte": now},
                **unleased(now),
            },
            {"$set": {"delivery.lease_until": now + lease, "delivery.lease_owner": self.owner}},
            return_document=ReturnDocument.AFTER,
        )
        return Message.from_doc(doc) if doc else None
