"""The outbox's outcome writes, grouped: many sends' outcomes in one write and their events in
one insert.

A send that ends hands its outcome here and waits until it is stored (its conversation's next
reply may only be claimed after that, and its slot is held until then). The first outcome is
written at once; those that end while a write is in flight go together in the next one, so
under load each write carries whatever completed meanwhile, and nothing ever waits on a timer.

Each outcome is written only while this worker still holds the message's lease (as a single
write would be). A message whose outcome write fails keeps its lease and comes back to a
worker when the lease runs out, so it is sent again rather than lost; its event is recorded
only with the outcome. Crash window: a message posted but whose outcome is not yet stored is
sent again after its lease if the process dies; grouping widens that window by at most one
write in flight (the one the outcome waited behind).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pymongo import UpdateOne
from pymongo.errors import OperationFailure

from kith.core.context import Core
from kith.core.events import record_all
from kith.core.ids import new_id
from kith.core.models import Event, Message

# A write conflict (or a partial write) is retried this many times: each write is guarded by
# the lease, so writing an outcome twice changes nothing.
ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    """What to write to a message when its send ends, and the event that says so (if any)."""

    message: Message
    update: dict[str, object]
    event: Event | None = None


class Outcomes:
    def __init__(self, core: Core, owner: str) -> None:
        self.core = core
        self.owner = owner
        self._queue: list[tuple[Outcome, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, outcome: Outcome) -> bool:
        """Store `outcome` (with its event); False if this worker no longer held the lease."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((outcome, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        return await done

    async def settle(self) -> None:
        """Wait for the writes in flight and queued (a worker stopping still records the
        outcomes of the sends that ended)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _drain(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue, []
                try:
                    applied = await self._store([outcome for outcome, _ in group])
                except Exception as exc:  # every waiter learns it; their leases stay
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for outcome, done in group:
                    if not done.done():
                        done.set_result(outcome.message.id in applied)
        finally:
            self._writer = None

    async def _store(self, group: list[Outcome]) -> set[str]:
        """One write for the group's outcomes, one insert for their events; returns the ids
        of the messages whose outcome this write stored."""
        token = new_id()  # marks the documents this write changed, to tell them apart
        requests = [
            UpdateOne(
                {"_id": outcome.message.id, "delivery.lease_owner": self.owner},
                {
                    "$set": {**outcome.update, "delivery.claim": token},
                    "$unset": {"delivery.lease_until": "", "delivery.lease_owner": ""},
                },
            )
            for outcome in group
        ]
        ids = {outcome.message.id for outcome in group}
        for attempt in range(ATTEMPTS):
            try:
                result = await self.core.store.messages.bulk_write(requests, ordered=False)
            except OperationFailure:  # a conflict or a partial write: the group again
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            if attempt or result.matched_count != len(group):
                ids = await self._stored_by(token, ids)
            break
        events = [o.event for o in group if o.event is not None and o.message.id in ids]
        await record_all(self.core, events)
        return ids

    async def _stored_by(self, token: str, ids: set[str]) -> set[str]:
        """Which of `ids` this write changed (the others had gone to another worker)."""
        cursor = self.core.store.messages.find(
            {"_id": {"$in": sorted(ids)}, "delivery.claim": token}, {"_id": 1}
        )
        return {str(doc["_id"]) async for doc in cursor}
