"""Local time for courtesy: which zone a customer lives in, their calendar day, and when
quiet hours end. Wall-clock arithmetic in the zone (zoneinfo), so DST changes are honoured:
09:00 is 09:00 local whether the night had 23 or 25 hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kith.courtesy.settings import CourtesySettings


def zone_of(customer: str | None, channel: str | None, workspace: str) -> ZoneInfo:
    """The customer's zone, else the channel's, else the workspace's (names that do not
    resolve are passed over)."""
    for name in (customer, channel, workspace):
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def local_day(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """`moment` on `day` in `zone`, in UTC. A wall time a DST jump skips resolves forwards
    (zoneinfo reads it with the offset before the jump: 02:30 on a spring-forward night is
    03:30), one that happens twice is its first occurrence."""
    return datetime.combine(day, moment, zone).astimezone(UTC)


def quiet_until(now: datetime, zone: ZoneInfo, settings: CourtesySettings) -> datetime | None:
    """None outside quiet hours; inside, when they end (UTC)."""
    start, end = settings.quiet_start, settings.quiet_end
    if start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    today = local.date()
    if start < end:  # within one day, e.g. 12:00–14:00
        return _at(today, end, zone) if start <= clock < end else None
    if clock < end:  # the morning part of a night that began yesterday
        return _at(today, end, zone)
    if clock >= start:  # the evening part: it ends tomorrow morning
        return _at(today + timedelta(days=1), end, zone)
    return None
