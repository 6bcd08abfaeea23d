"""Time as a collaborator, so tests move it instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


def as_stored(moment: datetime) -> datetime:
    """Truncated to milliseconds, as BSON keeps it (so what is read equals what was written)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def aware(moment: datetime) -> datetime:
    """A stored moment in UTC: the driver answers naive datetimes, which are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Now in UTC, truncated to milliseconds as BSON stores it (so reads equal writes)."""
    return as_stored(datetime.now(UTC))


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class ManualClock:
    """A clock that moves only when told to; for tests and benchmarks."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now


class ScaledClock:
    """Time that runs `speed` times faster than the wall clock, from the moment it was made:
    `kith demo` runs an hour per second so that a sequence's days pass while one watches.

    `monotonic` is injected (tests step it; no sleeping). `base` is the wall clock that
    machinery measured in real seconds keeps reading (`wall`)."""

    def __init__(
        self,
        speed: float,
        *,
        base: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("a clock's speed is more than nothing")
        self.speed = speed
        self.base: Clock = base or SystemClock()
        self._monotonic = monotonic
        self._start = self.base.now()
        self._started = monotonic()

    def now(self) -> datetime:
        elapsed = (self._monotonic() - self._started) * self.speed
        return as_stored(self._start + timedelta(seconds=elapsed))


def wall(clock: Clock) -> Clock:
    """The clock of what must last real seconds whatever the demo's speed (sessions, login
    locks): a scaled clock's base, else the clock itself (a test's `ManualClock` still works)."""
    return clock.base if isinstance(clock, ScaledClock) else clock
