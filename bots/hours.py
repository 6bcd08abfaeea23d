"""Business hours: is the team in now, and if not, when does it open."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from kith.bots.flows import BusinessHours

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _window(hours: BusinessHours, day: datetime) -> tuple[datetime, datetime] | None:
    span = hours.days.get(DAYS[day.weekday()])
    if not span or len(span) != 2:
        return None
    start, end = (time.fromisoformat(s) for s in span)
    return datetime.combine(day.date(), start, day.tzinfo), datetime.combine(
        day.date(), end, day.tzinfo
    )


def next_opening(hours: BusinessHours, now: datetime) -> datetime | None:
    """None while open; otherwise when the team opens next (in its timezone)."""
    local = now.astimezone(ZoneInfo(hours.timezone))
    window = _window(hours, local)
    if window and window[0] <= local < window[1]:
        return None
    for ahead in range(8):
        day = local + timedelta(days=ahead)
        window = _window(hours, day)
        if window and window[0] > local:
            return window[0]
    return None
