"""Leases last real seconds when the demo's clock runs an hour a second: a timer's, a job's and
a named lease (pollers, singleton work) would otherwise expire about 17 ms after they are
taken, and a second process take the work over while the first still does it.

Both processes read a `ScaledClock` at 3,600× over the suite's `ManualClock` (the wall);
`ticks` is the real time that passed, stepped by hand.
"""

from __future__ import annotations

import pytest

from kith.core import leases
from kith.core.clock import ManualClock, ScaledClock
from kith.core.context import Core
from kith.core.features import Feature, install
from kith.core.jobs import Job, JobKind, JobWorker, Step, create_job
from kith.core.timers import TimerWorker, schedule_timer


@pytest.fixture
def ticks(core: Core, second_process: Core, clock: ManualClock) -> list[float]:
    passed = [0.0]
    for process in (core, second_process):
        process.clock = ScaledClock(3600, base=clock, monotonic=lambda: passed[0])
    return passed


async def test_a_timers_lease(
    core: Core, second_process: Core, clock: ManualClock, ticks: list[float]
) -> None:
    await schedule_timer(core, "demo.timer", "test.reminder", core.clock.now())
    assert await TimerWorker(core, lease_seconds=60).claim() is not None

    ticks[0] = 2.0  # two hours on the demo's clock
    assert await TimerWorker(second_process).claim() is None
    clock.advance(61)  # the lease's real minute is over
    assert await TimerWorker(second_process).claim() is not None


async def one_step(core: Core, job: Job) -> Step:
    return Step(position=1, done=1, finished=True)


async def test_a_jobs_lease(
    core: Core, second_process: Core, clock: ManualClock, workspace_id: str, ticks: list[float]
) -> None:
    for process in (core, second_process):
        install(process, [Feature(name="test-jobs", jobs=(JobKind("test.job", one_step),))])
    job = await create_job(core, workspace_id, "test.job")
    assert (await JobWorker(core, lease_seconds=60).claim()) is not None

    ticks[0] = 2.0
    assert await JobWorker(second_process).claim(job.id) is None
    clock.advance(61)
    taken = await JobWorker(second_process).claim(job.id)
    assert taken is not None and taken.id == job.id


async def test_a_named_lease(
    core: Core, second_process: Core, clock: ManualClock, ticks: list[float]
) -> None:
    assert await leases.acquire(core, "poller:demo", "first", 60)

    ticks[0] = 2.0
    assert not await leases.acquire(second_process, "poller:demo", "second", 60)
    assert await leases.holder(second_process, "poller:demo") == "first"
    clock.advance(61)
    assert await leases.acquire(second_process, "poller:demo", "second", 60)
