"""When a `wait` step ends, in the customer's time zone.

A duration of whole days ("P1D", and so also "PT24H") is calendar days on the customer's wall
clock (09:00 the next day, whether that night had 23 or 25 hours); any other duration is
elapsed time.
`until` is the next weekday-and-time in the zone, strictly after now, computed by APScheduler's
cron maths (`kith.core.timers.Cron`), which resolves the wall times a DST change skips or
repeats. Results are in UTC at millisecond precision, as BSON stores them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kith.core.timers import Cron
from kith.sequences.models import WaitStep, parse_time

DAY = timedelta(days=1)


def wait_end(step: WaitStep, now: datetime, zone: ZoneInfo) -> datetime:
    if step.until is not None:
        hour, minute = parse_time(step.until.time)
        weekday = step.until.weekday.value if step.until.weekday else "*"
        fire = Cron(f"{minute} {hour} * * {weekday}", zone.key).next_after(now)
        assert fire is not None  # a daily or weekly time always comes again
        return fire
    assert step.duration is not None
    if step.duration % DAY:
        return _millis(now + step.duration)
    local = now.astimezone(zone).replace(tzinfo=None) + step.duration
    return _millis(local.replace(tzinfo=zone).astimezone(UTC))


def _millis(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
