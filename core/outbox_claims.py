"""Choosing and claiming the outbox's next messages: due, whose turn it is, fairly.

A message is claimed with a lease written into its document, so any number of workers in any
number of processes share the work and a dead worker's messages come back when its lease
runs out. Only a conversation's earliest pending message (its head) is ever claimed, so its
replies go out one at a time and in order across all processes; a later one whose head waits
for a retry is moved to the head's time (no attempt spent) so that it stops coming up.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import OperationFailure

from kith.core import leases
from kith.core.context import Core
from kith.core.ids import new_id
from kith.core.models import Conversation, DeliveryStatus, Message
from kith.core.outbox_slots import Flight, Slots

PENDING = DeliveryStatus.pending.value
# Conversations' pending messages read in one batch by the head lookup (a backlog deeper than
# this is read in further round trips).
HEADS_BATCH = 2000
# Due messages read ahead for the next refills, and how long that read stands (on Kith's clock
# and the event loop's both): finding the oldest due messages costs an engine without an
# index-ordered sort a sort of all of them, so refills share one read.
PREFETCH = 256
PREFETCH_FRESH = 0.25


def unleased(now: datetime) -> dict[str, Any]:
    """No worker holds the message (never leased, or its lease ran out)."""
    return leases.unleased(now, "delivery.lease_until")


@dataclass(frozen=True)
class Claimed:
    """A message this worker now holds, with its conversation (None: deleted since)."""

    message: Message
    conversation: Conversation | None


@dataclass(frozen=True)
class Head:
    """A conversation's earliest pending message."""

    message_id: str
    due: datetime | None


@dataclass(frozen=True)
class Excluded:
    """Who may take no slot now: busy or skipped conversations, full channels and workspaces."""

    conversations: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    workspaces: frozenset[str] = frozenset()

    def admits(self, doc: dict[str, Any]) -> bool:
        return (
            doc["conversation_id"] not in self.conversations
            and doc["channel_id"] not in self.channels
            and doc["workspace_id"] not in self.workspaces
        )

    def query(self) -> dict[str, Any]:
        """The same, as a filter on messages."""
        fields = (
            ("conversation_id", self.conversations),
            ("channel_id", self.channels),
            ("workspace_id", self.workspaces),
        )
        return {field: {"$nin": sorted(names)} for field, names in fields if names}


@dataclass
class Prefetch:
    """Due, unleased messages as read at `read_at`, oldest first; `complete`: all of them."""

    docs: list[dict[str, Any]]
    complete: bool
    read_at: datetime
    read_loop: float

    def fresh(self, now: datetime, loop_now: float) -> bool:
        age = max((now - self.read_at).total_seconds(), loop_now - self.read_loop)
        return 0 <= age < PREFETCH_FRESH


class Claims:
    def __init__(self, core: Core, owner: str, slots: Slots) -> None:
        self.core = core
        self.owner = owner
        self.slots = slots
        self._prefetch: Prefetch | None = None

    def forget(self) -> None:
        """Read the store afresh at the next refill (a new message was queued)."""
        self._prefetch = None

    async def take(self, budget: int) -> AsyncGenerator[Claimed, None]:
        """Claim up to `budget` messages, each with its slot taken: those below their fair
        share first, then (only if fairness held someone back) anyone below the caps."""
        skipped: set[str] = set()  # conversations whose turn it is not, in this pass
        for fair in (True, False):
            held_back = False
            while budget > 0 and self.slots.free > 0:
                limit = max(2 * min(budget, self.slots.free), 16)
                held_back |= self.slots.full(fair) != self.slots.full(False)
                batch = await self._candidates(skipped, fair, limit)
                heads = await self._heads(batch)
                chosen: list[Flight] = []
                for doc in batch:
                    if len(chosen) >= budget or self.slots.free <= 0:
                        break
                    conversation, flight = doc["conversation_id"], Flight.of_doc(doc)
                    if conversation in skipped or not self.slots.fits(flight, fair):
                        held_back |= self.slots.fits(flight, False)
                        continue
                    turn = await self._turn(doc["_id"], heads.get(conversation))
                    if turn is None:
                        skipped.add(conversation)
                        self._drop(doc["_id"])
                        continue
                    chosen.append(dataclasses.replace(flight, message_id=turn))
                    self.slots.take(chosen[-1])
                claimed = await self._claim(chosen)
                for flight in chosen:
                    if flight.message_id not in claimed:
                        self.slots.give_back(flight)
                        skipped.add(flight.conversation_id)
                budget -= len(claimed)
                self._drop(*claimed)
                for item in claimed.values():
                    yield item
                if not chosen or len(batch) < limit:
                    break  # nothing more to see at this level
            if not held_back:
                return

    async def _candidates(self, skipped: set[str], fair: bool, limit: int) -> list[dict[str, Any]]:
        """Due, unleased messages, oldest first, leaving out whoever may take no slot now:
        from the messages read ahead when they hold enough, else from the store."""
        prefetch = await self._prefetched()
        channels, workspaces = self.slots.full(fair)
        excluded = Excluded(
            frozenset({*skipped, *self.slots.busy_conversations()}),
            frozenset(channels),
            frozenset(workspaces),
        )
        served = [doc for doc in prefetch.docs if excluded.admits(doc)][:limit]
        if len(served) < limit and not prefetch.complete:
            return await self._query(limit, excluded)
        return served

    def _drop(self, *message_ids: str) -> None:
        """Claimed, or not their turn: no longer candidates."""
        if self._prefetch is not None:
            gone = set(message_ids)
            self._prefetch.docs = [doc for doc in self._prefetch.docs if doc["_id"] not in gone]

    async def _prefetched(self) -> Prefetch:
        now, loop_now = self.core.clock.now(), asyncio.get_running_loop().time()
        kept = self._prefetch
        if kept is not None and kept.docs and kept.fresh(now, loop_now):
            return kept
        docs = await self._query(PREFETCH, Excluded())
        self._prefetch = Prefetch(docs, len(docs) < PREFETCH, now, loop_now)
        return self._prefetch

    async def _query(self, limit: int, excluded: Excluded) -> list[dict[str, Any]]:
        """Due, unleased messages from the store, oldest first, but for the `excluded`."""
        now = self.core.clock.now()
        query: dict[str, Any] = {
            "delivery.status": PENDING,
            "delivery.next_attempt_at": {"$lte": now},
            **unleased(now),
            **excluded.query(),
        }
        cursor = self.core.store.messages.find(
            query,
            {"conversation_id": 1, "channel_id": 1, "workspace_id": 1, "created_at": 1},
            sort=[("delivery.next_attempt_at", 1)],
            limit=limit,
        )
        return [doc async for doc in cursor]

    async def _heads(self, candidates: list[dict[str, Any]]) -> dict[str, Head]:
        """Each candidate's conversation's earliest pending message, in one query for the
        batch (a find, not a `$group`: the embedded engine copies every document into an
        aggregation). Only messages created up to the newest candidate can be a head: a
        backlog's later messages are not read."""
        if not candidates:
            return {}
        cursor = self.core.store.messages.find(
            {
                "conversation_id": {"$in": sorted({doc["conversation_id"] for doc in candidates})},
                "delivery.status": PENDING,
                "created_at": {"$lte": max(doc["created_at"] for doc in candidates)},
            },
            {"conversation_id": 1, "delivery.next_attempt_at": 1},
            sort=[("created_at", 1), ("_id", 1)],
            batch_size=HEADS_BATCH,  # one round trip, where a server's first batch holds 101
        )
        heads: dict[str, Head] = {}
        async for doc in cursor:
            due = doc["delivery"].get("next_attempt_at")
            heads.setdefault(doc["conversation_id"], Head(doc["_id"], due))
        return heads

    async def _turn(self, candidate_id: str, head: Head | None) -> str | None:
        """The message to claim for the candidate: its conversation's head, if due. A
        candidate behind a head that waits for a retry follows it instead."""
        if head is None:  # delivered meanwhile
            return None
        now = self.core.clock.now()
        if head.message_id != candidate_id and head.due is not None and head.due > now:
            await self.core.store.messages.update_one(
                {"_id": candidate_id, **unleased(now)},
                {"$max": {"delivery.next_attempt_at": head.due}},
            )
            return None
        return head.message_id

    async def _claim(self, flights: list[Flight]) -> dict[str, Claimed]:
        """Lease the chosen messages in one write, then read back those this pass won (each
        document is claimed atomically; a message leased by someone else is left alone)."""
        if not flights:
            return {}
        messages = self.core.store.messages
        now = self.core.clock.now()
        ids = [flight.message_id for flight in flights]
        lease = timedelta(seconds=self.core.settings.outbox_lease_seconds)
        token = new_id()
        with contextlib.suppress(OperationFailure):  # a write conflict: what was won is kept
            await messages.update_many(
                {
                    "_id": {"$in": ids},
                    "delivery.status": PENDING,
                    "delivery.next_attempt_at": {"$lte": now},
                    **unleased(now),
                },
                {
                    "$set": {
                        "delivery.lease_until": now + lease,
                        "delivery.lease_owner": self.owner,
                        "delivery.claim": token,
                    }
                },
            )
        # The won messages and their conversations, read at once (both are needed to send).
        won_docs, conversation_docs = await asyncio.gather(
            messages.find({"_id": {"$in": ids}, "delivery.claim": token}).to_list(),
            self.core.store.conversations.find(
                {"_id": {"$in": sorted({flight.conversation_id for flight in flights})}}
            ).to_list(),
        )
        won = [Message.from_doc(doc) for doc in won_docs]
        conversations = {doc["_id"]: Conversation.from_doc(doc) for doc in conversation_docs}
        return {m.id: Claimed(m, conversations.get(m.conversation_id)) for m in won}
