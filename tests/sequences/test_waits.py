"""Wait ends in the customer's zone, across a DST change (pure time maths, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from kith.sequences.models import WaitStep
from kith.sequences.waits import wait_end

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def wait(**fields: object) -> WaitStep:
    return WaitStep.model_validate({"id": "w", "type": "wait", **fields})


def test_a_day_is_a_calendar_day_across_the_spring_dst_change() -> None:
    # Saturday 28 March 2026, 09:00 in Berlin (UTC+1); the night after has 23 hours.
    now = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    end = wait_end(wait(duration="P1D"), now, BERLIN)
    assert end.astimezone(BERLIN).hour == 9
    assert end - now == wait(duration="PT23H").duration


def test_hours_are_elapsed_time_across_the_autumn_dst_change() -> None:
    now = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # Sunday 00:00 in Berlin, 25-hour day
    end = wait_end(wait(duration="PT12H"), now, BERLIN)
    assert end == datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    assert end.astimezone(BERLIN).hour == 11  # the clock went back an hour on the way


def test_until_a_time_is_the_next_one_in_the_customers_zone() -> None:
    now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: 09:30 has passed
    end = wait_end(wait(until={"time": "09:30"}), now, SHANGHAI)
    assert end == datetime(2026, 12, 3, 1, 30, tzinfo=UTC)


def test_until_a_weekday_and_time() -> None:
    now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday
    end = wait_end(wait(until={"weekday": "mon", "time": "09:00"}), now, BERLIN)
    assert end == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert end.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 09:00"


def test_until_a_wall_time_the_spring_change_skips_comes_after_the_jump() -> None:
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # 02:30 does not exist on 29 March
    end = wait_end(wait(until={"time": "02:30"}), now, BERLIN)
    assert end.astimezone(BERLIN).date().isoformat() in {"2026-03-29", "2026-03-30"}
    assert end > now
