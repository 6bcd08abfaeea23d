"""Business-hour arithmetic, with expectations worked out by hand (UTC offsets written out):
holidays, several intervals a day, overnight hours, 24/7, and the DST weekends of New York and
Berlin (2026: 8 March and 1 November; 29 March and 25 October) next to Shanghai, which has none."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from kith.tickets.calendars import BusinessCalendar

H = timedelta(hours=1)
OFFICE = ((time(9), time(17)),)
WEEKDAYS = dict.fromkeys(range(5), OFFICE)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_office_hours_carry_over_nights_and_weekends() -> None:
    cal = BusinessCalendar("UTC", WEEKDAYS)
    assert cal.add(utc(2026, 1, 5, 16), 2 * H) == utc(2026, 1, 6, 10)  # Mon 16:00 → Tue 10:00
    assert cal.add(utc(2026, 1, 9, 16), 2 * H) == utc(2026, 1, 12, 10)  # Fri → Mon
    assert cal.add(utc(2026, 1, 10, 12), H) == utc(2026, 1, 12, 10)  # from a Saturday
    assert cal.elapsed(utc(2026, 1, 9, 16), utc(2026, 1, 12, 10)) == 2 * H
    assert cal.elapsed(utc(2026, 1, 10), utc(2026, 1, 11, 23)) == timedelta(0)
    assert cal.elapsed(utc(2026, 1, 5), utc(2026, 1, 12)) == 40 * H  # one working week


def test_a_target_ending_at_closing_time_is_due_at_closing_time() -> None:
    cal = BusinessCalendar("UTC", WEEKDAYS)
    assert cal.add(utc(2026, 1, 5, 9), 8 * H) == utc(2026, 1, 5, 17)


def test_several_intervals_a_day() -> None:
    cal = BusinessCalendar("UTC", {0: ((time(9), time(12)), (time(13), time(18)))})
    assert cal.add(utc(2026, 1, 5, 11), 2 * H) == utc(2026, 1, 5, 14)  # lunch is skipped
    assert cal.elapsed(utc(2026, 1, 5, 11, 30), utc(2026, 1, 5, 13, 30)) == H


def test_holidays_in_shanghai() -> None:
    """National Day week, 1–7 October 2026 (Thursday to Wednesday), UTC+8 all year."""
    golden_week = frozenset(date(2026, 10, d) for d in range(1, 8))
    weekdays = dict.fromkeys(range(5), ((time(9), time(18)),))
    cal = BusinessCalendar("Asia/Shanghai", weekdays, golden_week)
    # Wed 30 Sep 17:00 CST (09:00Z): one hour that day, the second on Thu 8 Oct 09:00–10:00 CST.
    assert cal.add(utc(2026, 9, 30, 9), 2 * H) == utc(2026, 10, 8, 2)
    assert cal.elapsed(utc(2026, 9, 30, 9), utc(2026, 10, 8, 2)) == 2 * H
    # A moment inside the holiday counts nothing until the office opens again.
    assert cal.add(utc(2026, 10, 3, 4), H) == utc(2026, 10, 8, 2)


def test_new_york_spring_forward() -> None:
    """Sunday 8 March 2026, 02:00 EST becomes 03:00 EDT."""
    cal = BusinessCalendar("America/New_York", {6: ((time(0), time(6)),)})
    day = (utc(2026, 3, 8, 5), utc(2026, 3, 8, 10))  # 00:00 EST .. 06:00 EDT
    assert cal.elapsed(*day) == 5 * H
    assert cal.add(utc(2026, 3, 8, 5), 3 * H) == utc(2026, 3, 8, 8)  # 04:00 EDT
    assert cal.add(utc(2026, 3, 8, 5), 5 * H) == utc(2026, 3, 8, 10)  # closing, 06:00 EDT


def test_new_york_office_hours_over_the_spring_weekend() -> None:
    cal = BusinessCalendar("America/New_York", WEEKDAYS)
    friday_4pm = utc(2026, 3, 6, 21)  # 16:00 EST
    monday_10am = utc(2026, 3, 9, 14)  # 10:00 EDT
    assert cal.add(friday_4pm, 2 * H) == monday_10am
    assert cal.elapsed(friday_4pm, monday_10am) == 2 * H


def test_new_york_fall_back() -> None:
    """Sunday 1 November 2026, 02:00 EDT becomes 01:00 EST: 01:00–02:00 happens twice."""
    whole = BusinessCalendar("America/New_York", {6: ((time(0), time(6)),)})
    assert whole.elapsed(utc(2026, 11, 1), utc(2026, 11, 2)) == 7 * H
    # Ending at a repeated time ends at its second occurrence: 00:00 EDT .. 01:30 EST.
    ends = BusinessCalendar("America/New_York", {6: ((time(0), time(1, 30)),)})
    assert ends.elapsed(utc(2026, 11, 1), utc(2026, 11, 2)) == 2.5 * H
    assert ends.add(utc(2026, 11, 1, 4), 2.5 * H) == utc(2026, 11, 1, 6, 30)
    # Starting at one starts at its first: 01:30 EDT (05:30Z) .. 03:00 EST (08:00Z).
    starts = BusinessCalendar("America/New_York", {6: ((time(1, 30), time(3)),)})
    assert starts.elapsed(utc(2026, 11, 1), utc(2026, 11, 2)) == 2.5 * H
    assert starts.add(utc(2026, 11, 1), H) == utc(2026, 11, 1, 6, 30)


def test_berlin_spring_forward_and_fall_back() -> None:
    """29 March 2026: 02:00 CET becomes 03:00 CEST; 25 October: 03:00 CEST becomes 02:00 CET."""
    cal = BusinessCalendar("Europe/Berlin", {6: ((time(1), time(5)),)})
    assert cal.elapsed(utc(2026, 3, 29), utc(2026, 3, 30)) == 3 * H
    assert cal.add(utc(2026, 3, 29, 0), 2 * H) == utc(2026, 3, 29, 2)  # 04:00 CEST
    assert cal.elapsed(utc(2026, 10, 24, 12), utc(2026, 10, 26)) == 5 * H
    # 01:00 CEST is 23:00Z the day before; three hours later is 02:00Z, 03:00 CET.
    assert cal.add(utc(2026, 10, 24, 23), 3 * H) == utc(2026, 10, 25, 2)


def test_an_interval_starting_in_the_gap_starts_with_the_offset_before_it() -> None:
    """02:30 does not exist in Berlin on 29 March 2026: read as CET it is 03:30 CEST (01:30Z)."""
    cal = BusinessCalendar("Europe/Berlin", {6: ((time(2, 30), time(4)),)})
    assert cal.elapsed(utc(2026, 3, 29), utc(2026, 3, 30)) == timedelta(minutes=30)
    assert cal.add(utc(2026, 3, 28, 12), timedelta(minutes=10)) == utc(2026, 3, 29, 1, 40)


def test_overnight_hours() -> None:
    """Monday 22:00 to Tuesday 06:00, nothing else."""
    cal = BusinessCalendar("UTC", {0: ((time(22), time(6)),)})
    assert cal.add(utc(2026, 1, 5, 23), 7 * H) == utc(2026, 1, 6, 6)
    assert cal.add(utc(2026, 1, 5, 23), 8 * H) == utc(2026, 1, 12, 23)
    assert cal.elapsed(utc(2026, 1, 6, 1), utc(2026, 1, 6, 12)) == 5 * H  # from yesterday's


def test_overnight_hours_over_a_dst_change_and_overlaps_counted_once() -> None:
    # Saturday 7 March 22:00 EST (03:00Z) to Sunday 06:00 EDT (10:00Z): seven real hours.
    night = BusinessCalendar("America/New_York", {5: ((time(22), time(6)),)})
    assert night.elapsed(utc(2026, 3, 7), utc(2026, 3, 9)) == 7 * H
    # Monday 20:00–02:00 overlaps Tuesday 00:00–03:00: 20:00 to 03:00 is seven hours.
    both = BusinessCalendar("UTC", {0: ((time(20), time(2)),), 1: ((time(0), time(3)),)})
    assert both.elapsed(utc(2026, 1, 5), utc(2026, 1, 7)) == 7 * H
    assert both.add(utc(2026, 1, 5, 20), 7 * H) == utc(2026, 1, 6, 3)


def test_around_the_clock_is_real_time_even_over_dst() -> None:
    cal = BusinessCalendar.always("America/New_York")
    # Saturday noon EST to Sunday 13:00 EDT is 24 real hours.
    assert cal.add(utc(2026, 3, 7, 17), 24 * H) == utc(2026, 3, 8, 17)
    assert cal.elapsed(utc(2026, 10, 31), utc(2026, 11, 2)) == 48 * H


def test_around_the_clock_with_a_holiday() -> None:
    cal = BusinessCalendar.always("Asia/Shanghai", frozenset({date(2026, 10, 1)}))
    # Noon on 30 Sep to noon on 2 Oct CST, less the whole of 1 October.
    assert cal.elapsed(utc(2026, 9, 30, 4), utc(2026, 10, 2, 4)) == 24 * H
    assert cal.add(utc(2026, 9, 30, 4), 13 * H) == utc(2026, 10, 1, 17)  # 01:00 on 2 Oct


def test_edges() -> None:
    cal = BusinessCalendar("UTC", WEEKDAYS)
    saturday = utc(2026, 1, 10, 12)
    assert cal.add(saturday, timedelta(0)) == saturday
    assert cal.elapsed(utc(2026, 1, 6), utc(2026, 1, 5)) == timedelta(0)
    with pytest.raises(ValueError):
        cal.add(saturday, -H)
    with pytest.raises(ValueError):
        BusinessCalendar("UTC", {})
    closed = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(4 * 366))
    with pytest.raises(ValueError, match="no business hours"):
        BusinessCalendar("UTC", WEEKDAYS, closed).add(utc(2026, 1, 1), H)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
def test_add_and_elapsed_agree(zone: str) -> None:
    """`elapsed(start, add(start, d)) == d`, over a year of random starts (DST days included)."""
    cal = BusinessCalendar(
        zone,
        {
            0: ((time(8), time(12)), (time(13), time(17))),
            2: ((time(22), time(3)),),
            6: ((time(1), time(4)),),
        },
        frozenset({date(2026, 5, 1), date(2026, 12, 25)}),
    )
    rng = random.Random(17)  # noqa: S311 - reproducible test data, not a secret
    for _ in range(300):
        start = utc(2026, 1, 1) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        duration = timedelta(minutes=rng.randrange(1, 60 * 60))
        due = cal.add(start, duration)
        assert cal.elapsed(start, due) == duration
        assert cal.elapsed(start, due - timedelta(minutes=1)) < duration


def test_subtract_steps_back_in_business_time() -> None:
    """Where a clock that overran its target was due: `add` backwards, over nights, weekends,
    holidays and a DST change, and undone by `add` from inside business hours."""
    cal = BusinessCalendar("UTC", WEEKDAYS, frozenset({date(2026, 1, 8)}))
    assert cal.subtract(utc(2026, 1, 12, 10), 2 * H) == utc(2026, 1, 9, 16)  # Mon → Fri
    assert cal.subtract(utc(2026, 1, 10, 12), H) == utc(2026, 1, 9, 16)  # from a Saturday
    assert cal.subtract(utc(2026, 1, 9, 10), 2 * H) == utc(2026, 1, 7, 16)  # the holiday
    assert cal.subtract(utc(2026, 1, 5, 17), 8 * H) == utc(2026, 1, 5, 9)  # a whole day
    assert cal.subtract(utc(2026, 3, 2, 9), 9 * 40 * H) == utc(2025, 12, 26, 9)  # long ago
    assert cal.subtract(utc(2026, 1, 5, 12), timedelta(0)) == utc(2026, 1, 5, 12)
    with pytest.raises(ValueError):
        cal.subtract(utc(2026, 1, 5, 12), -H)
    new_york = BusinessCalendar("America/New_York", {6: ((time(0), time(0)),)})
    # Sunday 8 March 2026 has 23 hours: its whole day back from Monday 04:00 UTC.
    assert new_york.subtract(utc(2026, 3, 9, 4), 23 * H) == utc(2026, 3, 8, 5)
    overnight = BusinessCalendar("UTC", {0: ((time(22), time(6)),), 1: ((time(0), time(8)),)})
    # Monday 22:00 to Tuesday 08:00 is one span of 10 hours, not 8 + 8.
    assert overnight.subtract(utc(2026, 1, 6, 8), 10 * H) == utc(2026, 1, 5, 22)
    rng = random.Random(25)  # noqa: S311 - reproducible test data, not a secret
    for _ in range(200):
        end = utc(2026, 1, 5) + timedelta(minutes=rng.randrange(60 * 24 * 60))
        back = timedelta(minutes=rng.randrange(1, 60 * 200))
        start = cal.subtract(end, back)
        assert cal.elapsed(start, end) == back
        if cal.opening(end) == end:
            assert cal.add(start, back) == end
