"""Durable timers: due times, leases, retries and cron, with a clock the tests move."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from kith.core.features import Feature, install
from kith.core.timers import (
    BACKOFF_BASE,
    BACKOFF_MAX,
    GIVEN_UP_KEPT,
    MAX_ATTEMPTS,
    Cron,
    Timer,
    TimerWorker,
    cancel_timer,
    find_timers,
    schedule_timer,
)

START = datetime(2026, 1, 1, tzinfo=UTC)  # ManualClock's start: a Thursday


class Recorder:
    """A timer handler that remembers what it fired and can be told to fail."""

    def __init__(self) -> None:
        self.fired: list[Timer] = []
        self.failures = 0

    async def __call__(self, core: Core, timer: Timer) -> None:
        await asyncio.sleep(0)  # let a second worker interleave
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the reminder service is down")
        self.fired.append(timer)


@pytest.fixture
def recorder(core: Core) -> Recorder:
    handler = Recorder()
    install(core, [reminders(handler)])
    return handler


def reminders(handler: Recorder) -> Feature:
    """A feature whose only part is the `test.reminder` timer kind."""
    return Feature(name="reminders", timers={"test.reminder": handler})


@pytest.fixture
def worker(core: Core) -> TimerWorker:
    return TimerWorker(core, owner="worker-a")


async def stored(core: Core, key: str) -> Timer | None:
    found = [t for t in await find_timers(core, key) if t.key == key]
    return found[0] if found else None


async def test_a_timer_fires_once_when_due_and_is_then_removed(
    core: Core, clock: ManualClock, worker: TimerWorker, recorder: Recorder
) -> None:
    await schedule_timer(core, "remind:1", "test.reminder", START + timedelta(minutes=5), {"n": 1})

    assert await worker.run_once() == 0
    clock.advance(300)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert [(t.key, t.payload, t.fire_at) for t in recorder.fired] == [
        ("remind:1", {"n": 1}, START + timedelta(minutes=5))
    ]
    assert await stored(core, "remind:1") is None


async def test_scheduling_a_key_again_replaces_the_timer(
    core: Core, clock: ManualClock, worker: TimerWorker, recorder: Recorder
) -> None:
    await schedule_timer(core, "remind:2", "test.reminder", START + timedelta(minutes=5), {"v": 1})
    await schedule_timer(core, "remind:2", "test.reminder", START + timedelta(minutes=9), {"v": 2})

    clock.advance(300)
    assert await worker.run_once() == 0
    clock.advance(240)
    assert await worker.run_once() == 1
    assert [t.payload for t in recorder.fired] == [{"v": 2}]


async def test_a_cancelled_timer_never_fires(
    core: Core, clock: ManualClock, worker: TimerWorker, recorder: Recorder
) -> None:
    await schedule_timer(core, "remind:3", "test.reminder", START + timedelta(minutes=1))
    assert await cancel_timer(core, "remind:3")
    assert not await cancel_timer(core, "remind:3")
    clock.advance(120)
    assert await worker.run_once() == 0
    assert recorder.fired == []


async def test_a_failing_handler_backs_off_and_retries_the_same_fire(
    core: Core, clock: ManualClock, worker: TimerWorker, recorder: Recorder
) -> None:
    due = START + timedelta(minutes=1)
    await schedule_timer(core, "remind:4", "test.reminder", due)
    recorder.failures = 2
    clock.advance(60)

    assert await worker.run_once() == 1  # claimed, failed
    failed = await stored(core, "remind:4")
    assert failed is not None and failed.attempts == 1
    assert failed.error == "RuntimeError: the reminder service is down"
    assert failed.due_at is not None and clock.now() < failed.due_at <= clock.now() + timedelta(
        seconds=BACKOFF_BASE
    )
    assert await worker.run_once() == 0  # backing off
    clock.advance(BACKOFF_BASE)
    assert await worker.run_once() == 1  # second failure: twice as long
    assert await worker.run_once() == 0
    clock.advance(BACKOFF_BASE * 2)
    assert await worker.run_once() == 1

    assert [t.fire_at for t in recorder.fired] == [due]  # a retry is the same fire
    assert await stored(core, "remind:4") is None


async def test_a_one_off_timer_that_keeps_failing_is_kept_with_its_error(
    core: Core, clock: ManualClock, worker: TimerWorker, recorder: Recorder
) -> None:
    await schedule_timer(core, "remind:5", "test.reminder", START)
    recorder.failures = MAX_ATTEMPTS

    for _ in range(MAX_ATTEMPTS):
        assert await worker.run_once() == 1
        clock.advance(BACKOFF_MAX)

    given_up = await stored(core, "remind:5")
    assert given_up is not None and given_up.due_at is None
    assert given_up.attempts == MAX_ATTEMPTS and "down" in (given_up.error or "")
    assert await worker.run_once() == 0
    assert recorder.fired == []
    doc = await core.store.timers.find_one({"_id": "remind:5"})
    assert doc["purge_at"] > utcnow() + GIVEN_UP_KEPT - timedelta(minutes=1)  # then TTL'd away
    ttl = await core.store.timers.index_information()
    assert any(i["key"] == [("purge_at", 1)] and "expireAfterSeconds" in i for i in ttl.values())

    await schedule_timer(core, "remind:5", "test.reminder", START)  # a fresh start is kept
    assert "purge_at" not in await core.store.timers.find_one({"_id": "remind:5"})


async def test_a_timer_of_an_unknown_kind_is_retried_not_lost(
    core: Core, clock: ManualClock, worker: TimerWorker
) -> None:
    await schedule_timer(core, "later:1", "test.not-installed-here", START)
    assert await worker.run_once() == 1
    timer = await stored(core, "later:1")
    assert timer is not None and timer.attempts == 1 and "no handler" in (timer.error or "")


async def test_a_crashed_workers_lease_expires_and_another_worker_fires_the_timer(
    core: Core, clock: ManualClock, recorder: Recorder
) -> None:
    await schedule_timer(core, "remind:6", "test.reminder", START)
    crashed = TimerWorker(core, owner="crashed", lease_seconds=60)
    survivor = TimerWorker(core, owner="survivor", lease_seconds=60)
    assert await crashed.claim() is not None  # ... and the process dies here

    assert await survivor.run_once() == 0
    clock.advance(59)
    assert await survivor.run_once() == 0
    clock.advance(1)
    assert await survivor.run_once() == 1
    assert [t.key for t in recorder.fired] == ["remind:6"]


async def test_a_recurring_timer_moves_to_its_next_fire_time_in_its_zone(
    core: Core, clock: ManualClock, worker: TimerWorker, recorder: Recorder
) -> None:
    # 09:00 in Shanghai is 01:00 UTC; at the start it is 08:00 there.
    timer = await schedule_timer(core, "daily", "test.reminder", Cron("0 9 * * *", "Asia/Shanghai"))
    assert timer.due_at == START + timedelta(hours=1)

    clock.advance(3600)
    assert await worker.run_once() == 1
    moved = await stored(core, "daily")
    assert moved is not None and moved.due_at == START + timedelta(days=1, hours=1)
    assert moved.fire_at == moved.due_at and moved.attempts == 0


async def test_a_late_worker_fires_a_missed_recurring_timer_once(
    core: Core, clock: ManualClock, worker: TimerWorker, recorder: Recorder
) -> None:
    await schedule_timer(core, "hourly", "test.reminder", Cron("0 * * * *"))
    clock.advance(5.5 * 3600)  # every process was down for five fire times

    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert [t.fire_at for t in recorder.fired] == [START + timedelta(hours=1)]
    following = await stored(core, "hourly")
    assert following is not None and following.due_at == START + timedelta(hours=6)


async def test_two_processes_sharing_one_store_never_fire_a_timer_twice(
    core: Core, second_process: Core, clock: ManualClock, recorder: Recorder
) -> None:
    for n in range(30):
        await schedule_timer(core, f"remind:race:{n}", "test.reminder", START)
    await schedule_timer(core, "remind:race:hourly", "test.reminder", Cron("0 * * * *"))
    install(second_process, [reminders(recorder)])
    clock.advance(3600)

    handled = await asyncio.gather(
        *(TimerWorker(p, owner=f"p{n}").run_once() for n, p in enumerate([core, second_process]))
    )

    keys = [t.key for t in recorder.fired]
    assert sum(handled) == 31
    assert sorted(keys) == sorted({*keys}) and len(keys) == 31


@pytest.mark.parametrize(
    ("weekdays", "first_fire"),
    [
        ("1", datetime(2026, 1, 5, 9, tzinfo=UTC)),  # crontab's 1 is Monday
        ("0", datetime(2026, 1, 4, 9, tzinfo=UTC)),  # 0 and 7 are Sunday
        ("7", datetime(2026, 1, 4, 9, tzinfo=UTC)),
        ("1-5", datetime(2026, 1, 1, 9, tzinfo=UTC)),
        ("sat,sun", datetime(2026, 1, 3, 9, tzinfo=UTC)),
        ("*/2", datetime(2026, 1, 1, 9, tzinfo=UTC)),  # Sun, Tue, Thu, Sat
    ],
)
def test_cron_weekdays_count_as_in_crontab(weekdays: str, first_fire: datetime) -> None:
    assert Cron(f"0 9 * * {weekdays}").next_after(START) == first_fire


@pytest.mark.parametrize(
    ("expression", "timezone"),
    [
        ("0 9 * *", "UTC"),
        ("61 9 * * *", "UTC"),
        ("0 9 * * 8", "UTC"),
        ("0 9 * * 5-1", "UTC"),
        ("0 9 30 2 *", "UTC"),  # February 30th never comes
        ("0 9 * * *", "Mars/Olympus_Mons"),
    ],
)
def test_invalid_cron_expressions_are_refused(expression: str, timezone: str) -> None:
    with pytest.raises(ValueError):
        Cron(expression, timezone)
