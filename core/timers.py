"""Durable timers: work due at a moment or on a cron, fired once across all Kith processes.

A timer is a document in `timers` whose `_id` is the caller's key, so scheduling is
idempotent: `schedule_timer` with the same key replaces the timer. Features declare a
handler per timer kind (`Feature.timers`) and never touch this module; the handler gets
the `Timer`, whose `fire_at` stays the same across retries, so it can derive idempotency keys.

A `TimerWorker` runs in every `kith serve`. It claims one due timer at a time with a lease
held in the document (due, and no live lease), renews the lease while the handler runs, then
deletes the timer or moves a recurring one to its next fire time after now: a timer found
late, because every process was down, fires once rather than once per missed period. A
handler that raises is retried with exponential backoff; a worker that dies leaves a lease
that expires, and another worker takes the timer over.

APScheduler 3's `CronTrigger` only computes fire times here: its job stores would not stop
two processes from running one job, so claiming is done on MongoDB like the outbox's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.core.clock import utcnow, wall
from kith.core.context import Core
from kith.core.leases import worker_owner

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
GIVEN_UP_KEPT = timedelta(days=30)  # a given-up one-off timer stays this long, to be inspected
BACKOFF_BASE = 2.0
BACKOFF_MAX = 600.0
CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)


def zone(name: str) -> ZoneInfo:
    """An IANA time zone, or a ValueError that names the unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _weekday(token: str) -> int:
    name = token.lower()
    if name in CRON_DAYS:
        return CRON_DAYS.index(name)
    if name.isdigit() and int(name) <= 7:
        return int(name)
    raise ValueError(f"bad weekday {token!r}: use 0-7 (0 and 7 are Sunday) or sun…sat")


def _weekdays(field: str) -> str:
    """crontab's weekday field as day names: APScheduler 3 reads 0 as Monday, crontab as
    Sunday, so numbers would silently shift every weekly schedule by a day."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        first, _, last = span.partition("-")
        low, high = (0, 6) if span == "*" else (_weekday(first), _weekday(last or first))
        if step and not last and span != "*":
            high = 6  # "1/2": from Monday to the end of the week, every second day
        if high < low or (step and (not step.isdigit() or int(step) == 0)):
            raise ValueError(f"bad weekday range {part!r}")
        days.update(d % 7 for d in range(low, high + 1, int(step or 1)))
    return ",".join(CRON_DAYS[d] for d in sorted(days))


@dataclass(frozen=True)
class Cron:
    """A five-field crontab expression (minute hour day month weekday) read in an IANA zone.

    Invalid expressions, zones, and expressions that can never fire raise ValueError when the
    `Cron` is made, so callers validate input by building one.
    """

    expression: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.next_after(_REFERENCE) is None:
            raise ValueError(f"{self.expression!r} never fires")

    def trigger(self) -> CronTrigger:
        fields = self.expression.split()
        if len(fields) != 5:
            raise ValueError("a cron expression has five fields: minute hour day month weekday")
        minute, hour, day, month, weekday = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekdays(weekday),
            timezone=zone(self.timezone),
        )

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment`, in UTC (None: never again)."""
        fire = self.trigger().get_next_fire_time(None, moment + timedelta(microseconds=1))
        return _bson_time(fire) if fire else None


def _bson_time(moment: datetime) -> datetime:
    """UTC, truncated to milliseconds as BSON stores it, so what is read equals what was written."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Timer:
    """A timer as stored. `fire_at` is the moment being fired (unchanged by retries);
    `due_at` is when a worker may next claim it (None: given up, kept to be inspected)."""

    key: str
    kind: str
    fire_at: datetime
    due_at: datetime | None
    payload: dict[str, Any]
    cron: Cron | None = None
    attempts: int = 0
    error: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Timer:
        cron = Cron(doc["cron"], doc.get("timezone") or "UTC") if doc.get("cron") else None
        return cls(
            key=doc["_id"],
            kind=doc["kind"],
            fire_at=doc["fire_at"],
            due_at=doc.get("due_at"),
            payload=doc.get("payload") or {},
            cron=cron,
            attempts=doc.get("attempts", 0),
            error=doc.get("error"),
        )


# What runs when a timer of a kind is due, declared by features (`Feature.timers`). A handler
# may run again for the same `fire_at` (after a crash or an exception): its effects must be
# idempotent.
TimerHandler = Callable[["Core", Timer], Awaitable[None]]


async def schedule_timer(
    core: Core, key: str, kind: str, at: datetime | Cron, payload: dict[str, Any] | None = None
) -> Timer:
    """Create or replace the timer `key`: due once at `at`, or at every fire time of a Cron."""
    if isinstance(at, Cron):
        first = at.next_after(core.clock.now())
        if first is None:
            raise ValueError(f"{at.expression!r} never fires again")
    elif at.tzinfo is None:
        raise ValueError("a timer's time must be timezone-aware")
    else:
        first = _bson_time(at)
    cron = at if isinstance(at, Cron) else None
    doc = {
        "_id": key,
        "kind": kind,
        "payload": payload or {},
        "fire_at": first,
        "due_at": first,
        "cron": cron.expression if cron else None,
        "timezone": cron.timezone if cron else None,
        "attempts": 0,
        "created_at": core.clock.now(),
    }
    try:
        await core.store.timers.replace_one({"_id": key}, doc, upsert=True)
    except DuplicateKeyError:  # another process created the key at the same moment: replace it
        await core.store.timers.replace_one({"_id": key}, doc, upsert=True)
    return Timer.from_doc(doc)


async def cancel_timer(core: Core, key: str) -> bool:
    """Remove the timer `key`; a handler already running finishes but changes nothing after."""
    result = await core.store.timers.delete_one({"_id": key})
    return bool(result.deleted_count)


async def find_timers(core: Core, key_prefix: str) -> list[Timer]:
    """Timers whose key starts with `key_prefix` (a feature's keys share a prefix)."""
    docs = await core.store.timers.find({"_id": {"$regex": f"^{re.escape(key_prefix)}"}}).to_list(
        None
    )
    return [Timer.from_doc(d) for d in docs]


def backoff(attempts: int) -> float:
    """Seconds before retry number `attempts`: base, 2×base, 4×base … capped, with jitter."""
    delay = min(BACKOFF_BASE * 2.0 ** max(attempts - 1, 0), BACKOFF_MAX)
    return delay * random.uniform(0.8, 1.0)  # noqa: S311 (jitter, not cryptography)


class TimerWorker:
    """Claims due timers one at a time under a lease and runs their handlers."""

    def __init__(
        self,
        core: Core,
        owner: str | None = None,
        *,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self.core = core
        self.owner = worker_owner(owner)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds

    async def claim(self) -> Timer | None:
        """The earliest due timer no live lease holds, leased to this worker. Due times are
        Kith's clock, leases real seconds (`wall`: the demo's clock runs an hour a second)."""
        held = wall(self.core.clock).now()
        doc = await self.core.store.timers.find_one_and_update(
            {
                "due_at": {"$lte": self.core.clock.now()},
                "$or": [{"lease_until": None}, {"lease_until": {"$lte": held}}],
            },
            {
                "$set": {
                    "lease_until": held + timedelta(seconds=self.lease_seconds),
                    "lease_owner": self.owner,
                }
            },
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return Timer.from_doc(doc) if doc else None

    async def run_once(self, limit: int = 1000) -> int:
        """Fire every timer due now (up to `limit`); returns how many were claimed."""
        fired = 0
        while fired < limit:
            timer = await self.claim()
            if timer is None:
                break
            await self.fire(timer)
            fired += 1
        return fired

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The background loop of `kith serve`: fire what is due, look again every poll."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("timer pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)

    async def fire(self, timer: Timer) -> None:
        """Run the handler of a claimed timer, then settle it (done, retry or give up)."""
        handler = self.core.timer_handlers.get(timer.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler registered for timer kind {timer.kind!r}")
            async with self._renewing(timer):
                await handler(self.core, timer)
        except Exception as exc:
            log.exception("timer handler failed", extra={"timer": timer.key})
            await self._failed(timer, f"{type(exc).__name__}: {exc}")
            return
        following = timer.cron.next_after(self.core.clock.now()) if timer.cron else None
        if following is None:
            await self.core.store.timers.delete_one({"_id": timer.key, "lease_owner": self.owner})
            return
        await self._settle(
            timer, {"fire_at": following, "due_at": following, "attempts": 0, "error": None}
        )

    async def _failed(self, timer: Timer, error: str) -> None:
        """Back off and retry; after MAX_ATTEMPTS a recurring timer skips to its next fire
        time and a one-off timer is kept without a due time, with its error, for GIVEN_UP_KEPT
        (`purge_at` is wall-clock time, the TTL monitor's)."""
        attempts = timer.attempts + 1
        now = self.core.clock.now()
        if attempts < MAX_ATTEMPTS:
            due = now + timedelta(seconds=backoff(attempts))
            await self._settle(timer, {"due_at": due, "attempts": attempts, "error": error})
            return
        following = timer.cron.next_after(now) if timer.cron else None
        log.error("timer given up", extra={"timer": timer.key, "error": error})
        if following is None:
            kept = {"attempts": attempts, "error": error, "purge_at": utcnow() + GIVEN_UP_KEPT}
            await self._settle(timer, kept, unset="due_at")
            return
        await self._settle(
            timer, {"fire_at": following, "due_at": following, "attempts": 0, "error": error}
        )

    async def _settle(self, timer: Timer, changes: dict[str, Any], unset: str = "") -> None:
        """Write the outcome and drop the lease, unless the timer was replaced or taken over."""
        dropped = {"lease_until": "", "lease_owner": "", **({unset: ""} if unset else {})}
        await self.core.store.timers.update_one(
            {"_id": timer.key, "lease_owner": self.owner}, {"$set": changes, "$unset": dropped}
        )

    @contextlib.asynccontextmanager
    async def _renewing(self, timer: Timer) -> AsyncIterator[None]:
        """Keep the lease while a long handler runs (a fan-out to many conversations)."""
        task = asyncio.create_task(self._renew(timer.key))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _renew(self, key: str) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            until = wall(self.core.clock).now() + timedelta(seconds=self.lease_seconds)
            try:
                await self.core.store.timers.update_one(
                    {"_id": key, "lease_owner": self.owner}, {"$set": {"lease_until": until}}
                )
            except Exception:
                log.exception("timer lease renewal failed", extra={"timer": key})
