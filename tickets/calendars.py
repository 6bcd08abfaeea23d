"""Business-hour calendars: how much of an SLA target a stretch of time consumes.

A calendar is a time zone, weekly hours (several intervals a day, an interval whose end is not
after its start runs overnight into the next day, `00:00`–`00:00` is the whole day) and
holidays (local dates: no interval starting that day counts). Hours are wall-clock hours in
the calendar's zone, so a day that loses an hour to daylight saving has one business hour
fewer inside an interval that spans the change, and a day that gains one has one more.

A local time that does not exist (inside a spring-forward gap) is read with the offset before
the gap, as RFC 5545 and `zoneinfo` do (02:30 in New York on a spring-forward Sunday is 03:30
EDT); a local time that happens twice (fall back) starts an interval at its first occurrence
and ends one at its second, so an interval never loses the repeated hour.

Pure: no I/O, no clock; moments are aware datetimes, durations are `timedelta`s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZERO = timedelta(0)
# How far `add` looks for business hours before it gives up (a calendar whose holidays cover
# every working day for years is a mistake, not a reason to loop forever).
HORIZON_DAYS = 3 * 366
ALL_DAY = ((time(0), time(0)),)


@dataclass(frozen=True)
class BusinessCalendar:
    """`weekly[0]` is Monday's intervals (`(start, end)` local times), `weekly[6]` Sunday's."""

    zone: str
    weekly: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", ZoneInfo(self.zone))
        if not any(self.weekly.get(day) for day in range(7)):
            raise ValueError("a calendar needs business hours on at least one weekday")

    @classmethod
    def always(cls, zone: str = "UTC", holidays: frozenset[date] = frozenset()) -> BusinessCalendar:
        """24/7 (holidays, if any, still close their whole local day)."""
        return cls(zone, {day: ALL_DAY for day in range(7)}, holidays)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The first moment at which `duration` of business time has passed since `start`."""
        if duration < ZERO:
            raise ValueError("a business duration is never negative")
        start = start.astimezone(UTC)
        if duration == ZERO:
            return start
        left = duration
        for opens, closes in self._spans(start):
            opens = max(opens, start)
            if left <= closes - opens:
                return opens + left
            left -= closes - opens
        raise ValueError(f"no business hours within {HORIZON_DAYS} days of {start.isoformat()}")

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        """`add` backwards: the latest moment from which `duration` of business time has
        passed by `end` (where a clock that overran its target by `duration` was due)."""
        if duration < ZERO:
            raise ValueError("a business duration is never negative")
        end = end.astimezone(UTC)
        if duration == ZERO:
            return end
        days = 7
        while True:  # a window back from `end`, doubled until it holds `duration`
            days = min(days, HORIZON_DAYS)
            since = end - timedelta(days=days)
            spans = []
            for opens, closes in self._spans(since):
                if opens >= end:
                    break
                spans.append((max(opens, since), min(closes, end)))
            left = duration
            for opens, closes in reversed(spans):
                if left <= closes - opens:
                    return closes - left
                left -= closes - opens
            if days == HORIZON_DAYS:
                raise ValueError(f"no business hours within {HORIZON_DAYS} days before {end}")
            days *= 2

    def opening(self, start: datetime) -> datetime:
        """The first business moment at or after `start` (`start` itself inside hours)."""
        start = start.astimezone(UTC)
        for opens, _ in self._spans(start):
            return max(opens, start)
        raise ValueError(f"no business hours within {HORIZON_DAYS} days of {start.isoformat()}")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two moments (nothing if `end` is not after `start`)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = ZERO
        if end <= start:
            return total
        for opens, closes in self._spans(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    def _spans(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Business time as UTC spans in order, overlapping ones merged (spans that only touch
        are not: around the clock would be one span years long), from the first that ends after
        `since`, for at most `HORIZON_DAYS` days."""
        day = since.astimezone(self._tz).date() - timedelta(days=1)  # yesterday's overnight
        current: tuple[datetime, datetime] | None = None
        for offset in range(HORIZON_DAYS):
            for span in self._day_spans(day + timedelta(days=offset)):
                if current is not None and span[0] < current[1]:
                    current = (current[0], max(current[1], span[1]))
                    continue
                if current is not None and current[1] > since:
                    yield current
                current = span
        if current is not None and current[1] > since:
            yield current

    def _day_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        spans = []
        for opens, closes in self.weekly.get(day.weekday(), ()):
            end_day = day if closes > opens else day + timedelta(days=1)
            begin = self._instant(datetime.combine(day, opens), latest=False)
            end = self._instant(datetime.combine(end_day, closes), latest=True)
            if end > begin:
                spans.append((begin, end))
        return sorted(spans)

    def _instant(self, local: datetime, *, latest: bool) -> datetime:
        first = local.replace(tzinfo=self._tz, fold=0).astimezone(UTC)
        second = local.replace(tzinfo=self._tz, fold=1).astimezone(UTC)
        # A repeated local time: fold 0 is the earlier instant. In a gap fold 0 is the later
        # one (the offset before the gap), which is the reading used for both ends.
        return second if latest and second > first else first
