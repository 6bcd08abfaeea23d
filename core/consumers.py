"""Durable event consumers: features react to the event log, not inside the webhook request.

When an event is recorded, the names of the consumers that want its type are written on it
(`pending`) in the same insert, so no event can be logged without its consumers knowing.
`ConsumerWorker`s, in any number of processes, claim pending events per consumer under a
lease kept in the event itself (`claims.<consumer>`, on the wall clock even when the demo's
clock runs fast), run the consumer and pull its name from `pending`. A worker that dies
mid-event leaves its claim to expire and the event is handled again by the next claimer:
delivery is at least once, so consumers make their effects idempotent (an outbound message
caused by event E at step S has an id derived from both). An event that keeps failing is
parked (`parked`) instead of blocking the rest; admins see it and retry it on demand.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pymongo import UpdateOne

from kith.core import metrics
from kith.core.clock import wall
from kith.core.leases import worker_owner
from kith.core.models import Event
from kith.core.waiting import wait_any

if TYPE_CHECKING:
    from kith.core.context import Core

log = logging.getLogger(__name__)
LAG_EVERY_SECONDS = 10.0
IDLE_SECONDS = 1.0

Handler = Callable[["Core", Event], Awaitable[None]]


@dataclass(frozen=True)
class Consumer:
    """A named reaction to event types; `"channel.*"` subscribes to every type it prefixes."""

    name: str
    types: tuple[str, ...]
    handle: Handler

    def wants(self, event_type: str) -> bool:
        return any(
            event_type.startswith(t[:-1]) if t.endswith("*") else event_type == t
            for t in self.types
        )


class Consumers:
    """The consumers installed in this application, by name."""

    def __init__(self, consumers: Iterable[Consumer] = ()) -> None:
        self._by_name: dict[str, Consumer] = {}
        for consumer in consumers:
            self.add(consumer)

    def add(self, consumer: Consumer) -> None:
        if consumer.name in self._by_name:
            raise ValueError(f"two consumers are named {consumer.name!r}")
        self._by_name[consumer.name] = consumer

    def __iter__(self) -> Any:
        return iter(self._by_name.values())

    def get(self, name: str) -> Consumer | None:
        return self._by_name.get(name)

    def subscribed(self, event_type: str) -> list[str]:
        """Names of the consumers that will handle an event of this type."""
        return [c.name for c in self._by_name.values() if c.wants(event_type)]


class ConsumerNews:
    """What this process recorded for each consumer: a running count per consumer, and an
    event that wakes the workers. Lets a worker skip a consumer that found nothing on its
    last look until news arrives for it (`Quiet`)."""

    def __init__(self) -> None:
        self.wakeup = asyncio.Event()
        self._counts: Counter[str] = Counter()

    def arrived(self, consumers: Iterable[str]) -> None:
        self._counts.update(consumers)
        self.wakeup.set()

    def count(self, consumer: str) -> int:
        return self._counts[consumer]


class Quiet:
    """Consumers whose last look found nothing, with what was known when that look began.
    Such a consumer is not looked for again until this process records an event for it, a
    run of it ends, or `every` seconds pass (other processes' events, expired claims,
    retries come due): without this, every pass scanned the log once per installed consumer.
    """

    def __init__(self, news: ConsumerNews, every: float) -> None:
        self.news = news
        self.every = every
        self._stirred: Counter[str] = Counter()
        self._looked: dict[str, tuple[tuple[int, int], float]] = {}

    def known(self, consumer: str) -> tuple[int, int]:
        """What is known for `consumer` now: read it before a look begins."""
        return self.news.count(consumer), self._stirred[consumer]

    def still(self, consumer: str, now: float) -> bool:
        looked = self._looked.get(consumer)
        if looked is None:
            return False
        known, at = looked
        return known == self.known(consumer) and now - at < self.every

    def found_nothing(self, consumer: str, known: tuple[int, int], now: float) -> None:
        self._looked[consumer] = (known, now)

    def stir(self, consumer: str) -> None:
        """Look for `consumer` on the next pass (a run of it ended: its conversation's later
        events may be claimed), even if a look that began before found nothing."""
        self._stirred[consumer] += 1


def _by_conversation(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Claimed events by conversation (or by themselves, outside any), in log order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        groups.setdefault(doc.get("conversation_id") or doc["_id"], []).append(doc)
    return groups


def _claimable(name: str, now: datetime) -> dict[str, Any]:
    until = f"claims.{name}.until"
    return {"pending": name, "$or": [{until: None}, {until: {"$lte": now}}]}


class ConsumerWorker:
    """Claims pending events per consumer in batches and runs them.

    Events of one conversation run one after another, in log order; different conversations
    run side by side. In `run_forever` a slow run (a bot's webhook step) holds only its own
    conversation: the worker keeps claiming for the others, leaving out the conversations it
    is still working on, up to `max_in_flight` at once.
    """

    def __init__(
        self,
        core: Core,
        owner: str | None = None,
        *,
        batch_size: int = 32,
        lease_seconds: float = 60.0,
        max_failures: int = 5,
        max_in_flight: int = 64,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.core = core
        self.max_in_flight = max_in_flight
        self._running: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._progress = asyncio.Event()
        self.owner = worker_owner(owner)
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)
        self.max_failures = max_failures
        self.idle_seconds = idle_seconds  # how often it looks for other processes' events
        self._quiet = Quiet(core.consumer_news, idle_seconds)
        self._turn = 0  # where the next pass of `run_forever` begins

    async def run_once(self) -> int:
        """One claimed batch per consumer; returns how many events were handled."""
        handled = 0
        for consumer in self.core.consumers:
            handled += await self.run_consumer(consumer)
        return handled

    async def drain(self, limit: int = 10_000) -> int:
        """Run until nothing is claimable now (tests, the demo's terminal chat)."""
        total = 0
        while total < limit:
            handled = await self.run_once()
            if not handled:
                break
            total += handled
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The background loop of `kith serve`: claims whenever a run ends or an event is
        recorded here, and looks again every second for other processes' events."""
        lag_checked = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                self.core.consumer_news.wakeup.clear()
                self._progress.clear()
                try:
                    started = await self._start_runs()
                    due = loop.time() - lag_checked > LAG_EVERY_SECONDS
                    if due and self.core.settings.metrics_token:
                        lag_checked = loop.time()
                        await report_lag(self.core)
                except Exception:
                    log.exception("consumer pass failed")
                    started = 0
                if not started:
                    wake = (stop, self.core.consumer_news.wakeup, self._progress)
                    await wait_any(wake, self.idle_seconds)
        finally:
            for task in self._running.values():  # their claims expire and others take over
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _start_runs(self) -> int:
        """Claim for every consumer, leaving out conversations still running here, and start
        a task per conversation; returns how many events were claimed. Consumers that found
        nothing last time and have no news since are skipped (`Quiet`). A pass that runs out
        of room ends where the next begins: when every pass began with the first consumer,
        its batches took the room again as soon as a run ended, and a backlog of its own (a
        large import's events) held the others back until it was gone."""
        started = 0
        loop = asyncio.get_running_loop()
        consumers = list(self.core.consumers)
        for at in range(len(consumers)):
            turn = (self._turn + at) % len(consumers)
            consumer = consumers[turn]
            room = self.max_in_flight - len(self._running)
            if room <= 0:
                self._turn = turn
                break
            if self._quiet.still(consumer.name, loop.time()):
                continue
            known = self._quiet.known(consumer.name)
            busy = [key for name, key in self._running if name == consumer.name]
            claimed = await self._claim(consumer, busy)
            if not claimed:
                self._quiet.found_nothing(consumer.name, known, loop.time())
                continue
            for key, group in _by_conversation(claimed).items():
                task = asyncio.create_task(self._run_group(consumer, group))
                self._running[(consumer.name, key)] = task
                task.add_done_callback(functools.partial(self._ended, (consumer.name, key)))
                started += len(group)
        return started

    def _ended(self, key: tuple[str, str], _: asyncio.Task[None]) -> None:
        self._running.pop(key, None)
        self._quiet.stir(key[0])
        self._progress.set()

    async def run_consumer(self, consumer: Consumer) -> int:
        """Claim one batch for `consumer` and run it to the end (tests, `drain`)."""
        docs = await self._claim(consumer)
        groups = _by_conversation(docs)
        await asyncio.gather(*(self._run_group(consumer, group) for group in groups.values()))
        return len(docs)

    async def _claim(self, consumer: Consumer, busy: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Two round trips for a batch: mark candidates with a claim token, read them back.
        Events of the `busy` conversations are left for when their runs end."""
        events = self.core.store.events
        now = wall(self.core.clock).now()
        cond = _claimable(consumer.name, now)
        if busy:
            cond["conversation_id"] = {"$nin": list(busy)}
        ids = [
            doc["_id"]
            for doc in await events.find(cond, {"_id": 1})
            .sort([("created_at", 1), ("_id", 1)])
            .limit(self.batch_size)
            .to_list(self.batch_size)
        ]
        if not ids:
            return []
        token = uuid.uuid4().hex
        claim = {"owner": self.owner, "token": token, "until": now + self.lease}
        await events.update_many(
            {"_id": {"$in": ids}, **cond}, {"$set": {f"claims.{consumer.name}": claim}}
        )
        claimed = (
            await events.find({"_id": {"$in": ids}, f"claims.{consumer.name}.token": token})
            .sort([("created_at", 1), ("_id", 1)])
            .to_list(None)
        )
        return list(claimed)

    async def _run_group(self, consumer: Consumer, docs: Sequence[dict[str, Any]]) -> None:
        for doc in docs:
            await self._run(consumer, doc)

    async def _run(self, consumer: Consumer, doc: dict[str, Any]) -> None:
        try:
            await consumer.handle(self.core, Event.from_doc(doc))
        except Exception as exc:
            log.exception(
                "consumer %s failed on event %s",
                consumer.name,
                doc["_id"],
                extra={"consumer": consumer.name, "event_id": doc["_id"]},
            )
            await self._failed(consumer, doc, exc)
            return
        done = {
            "$pull": {"pending": consumer.name},
            "$unset": {f"claims.{consumer.name}": "", f"failures.{consumer.name}": ""},
        }
        # With other runs' (group commit): one round trip for the events done together.
        await self.core.store.grouped("events").write(UpdateOne({"_id": doc["_id"]}, done))
        metrics.CONSUMER_HANDLED.labels(consumer=consumer.name).inc()

    async def _failed(self, consumer: Consumer, doc: dict[str, Any], exc: Exception) -> None:
        name = consumer.name
        failures = int((doc.get("failures") or {}).get(name, 0)) + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        metrics.CONSUMER_FAILED.labels(consumer=name).inc()
        if failures >= self.max_failures:
            await self.core.store.events.update_one(
                {"_id": doc["_id"]},
                {
                    "$pull": {"pending": name},
                    "$addToSet": {"parked": name},
                    "$set": {f"failures.{name}": failures, f"errors.{name}": error},
                    "$unset": {f"claims.{name}": ""},
                },
            )
            log.error("event parked", extra={"consumer": name, "event_id": doc["_id"]})
            return
        retry_at = wall(self.core.clock).now() + timedelta(seconds=min(2**failures, 300))
        await self.core.store.events.update_one(
            {"_id": doc["_id"], f"claims.{name}.owner": self.owner},
            {
                "$set": {
                    f"failures.{name}": failures,
                    f"errors.{name}": error,
                    f"claims.{name}": {"owner": None, "token": None, "until": retry_at},
                }
            },
        )


class ConsumerLag(BaseModel):
    """How far behind a consumer is, and how many events it gave up on."""

    consumer: str
    pending: int
    oldest_pending_at: datetime | None
    parked: int


async def lag(core: Core, workspace_id: str | None = None) -> list[ConsumerLag]:
    scope = {"workspace_id": workspace_id} if workspace_id else {}
    report = []
    for consumer in core.consumers:
        query = {**scope, "pending": consumer.name}
        oldest = await core.store.events.find_one(
            query, {"created_at": 1}, sort=[("created_at", 1), ("_id", 1)]
        )
        report.append(
            ConsumerLag(
                consumer=consumer.name,
                pending=await core.store.events.count_documents(query),
                oldest_pending_at=oldest["created_at"] if oldest else None,
                parked=await core.store.events.count_documents({**scope, "parked": consumer.name}),
            )
        )
    return report


async def report_lag(core: Core) -> None:
    """Publish every consumer's lag to /metrics, where /metrics is served: it counts every
    consumer's pending events, which on the embedded engine is three passes over the event
    log per consumer (a 60,000-row import's events made each report block `kith demo`'s
    loop for seconds, every ten seconds)."""
    now = core.clock.now()
    for entry in await lag(core):
        metrics.CONSUMER_LAG.labels(consumer=entry.consumer).set(entry.pending)
        age = (now - entry.oldest_pending_at).total_seconds() if entry.oldest_pending_at else 0
        metrics.CONSUMER_OLDEST_SECONDS.labels(consumer=entry.consumer).set(max(age, 0.0))
        metrics.CONSUMER_PARKED.labels(consumer=entry.consumer).set(entry.parked)


class ParkedEvent(BaseModel):
    event_id: str
    type: str
    created_at: datetime
    failures: int
    error: str | None


async def parked(
    core: Core, workspace_id: str, consumer: str, limit: int = 100
) -> list[ParkedEvent]:
    docs = (
        await core.store.events.find({"workspace_id": workspace_id, "parked": consumer})
        .sort([("created_at", 1), ("_id", 1)])
        .limit(limit)
        .to_list(limit)
    )
    return [
        ParkedEvent(
            event_id=doc["_id"],
            type=doc["type"],
            created_at=doc["created_at"],
            failures=int((doc.get("failures") or {}).get(consumer, 0)),
            error=(doc.get("errors") or {}).get(consumer),
        )
        for doc in docs
    ]


async def retry_parked(core: Core, workspace_id: str, consumer: str, event_id: str) -> bool:
    """Give a parked event back to its consumer (after the cause was fixed)."""
    result = await core.store.events.update_one(
        {"_id": event_id, "workspace_id": workspace_id, "parked": consumer},
        {
            "$pull": {"parked": consumer},
            "$addToSet": {"pending": consumer},
            "$unset": {f"failures.{consumer}": "", f"claims.{consumer}": ""},
        },
    )
    if result.modified_count:
        core.consumer_news.arrived([consumer])
    return bool(result.modified_count)
