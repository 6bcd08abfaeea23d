"""Time as a collaborator, so tests move it instead of sleeping."""

from __future__ import annotations

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
