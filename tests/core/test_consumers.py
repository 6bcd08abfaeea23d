"""Durable event consumers: claims, retries, parking, lag, and workers that die mid-event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from kith.core.clock import ManualClock, ScaledClock
from kith.core.consumers import Consumer, ConsumerLag, ConsumerWorker, lag, parked, retry_parked
from kith.core.context import Core
from kith.core.events import build_event, record, record_many
from kith.core.models import Event
from tests.support.consumers import recorder


class Flaky:
    """A consumer's handler that fails the first `failures` times it sees tick number 0."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[str] = []

    async def __call__(self, core: Core, event: Event) -> None:
        self.calls.append(event.id)
        if event.data["n"] == 0 and self.calls.count(event.id) <= self.failures:
            raise RuntimeError("the downstream service is down")


async def lag_of(core: Core, workspace_id: str, consumer: str) -> list[ConsumerLag]:
    """The test's own consumer's report (installed features have consumers of their own)."""
    return [r for r in await lag(core, workspace_id) if r.consumer == consumer]


async def tick(core: Core, workspace_id: str, n: int = 0) -> Event:
    event = build_event(core, workspace_id, "test.tick", data={"n": n})
    assert await record(core, event)
    return event


async def test_only_subscribed_events_are_pending_and_each_is_handled_once(
    core: Core, workspace_id: str
) -> None:
    seen = recorder(core, ["test.*"])
    first = await tick(core, workspace_id, 1)
    await record(core, build_event(core, workspace_id, "other.thing"))
    second = await tick(core, workspace_id, 2)

    assert await ConsumerWorker(core).drain() == 2
    assert await ConsumerWorker(core).drain() == 0
    assert [e.id for e in seen] == [first.id, second.id]
    other = await core.store.events.find_one({"type": "other.thing"})
    assert "pending" not in other


async def test_a_failing_event_is_retried_after_a_backoff_then_parked_and_retried_on_demand(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    flaky = Flaky(failures=5)
    core.consumers.add(Consumer("flaky", ("test.tick",), flaky))
    event = await tick(core, workspace_id)
    later = await tick(core, workspace_id, 2)
    worker = ConsumerWorker(core, max_failures=5)

    await worker.run_once()  # fails once; the next event is not held up
    assert flaky.calls == [event.id, later.id]
    await worker.run_once()
    assert flaky.calls == [event.id, later.id]  # backing off
    for _ in range(4):
        clock.advance(301)
        await worker.run_once()
    assert flaky.calls.count(event.id) == 5
    [stuck] = await parked(core, workspace_id, "flaky")
    assert stuck.event_id == event.id and stuck.failures == 5
    assert "down" in (stuck.error or "")
    [report] = await lag_of(core, workspace_id, "flaky")
    assert (report.pending, report.parked) == (0, 1)

    assert await retry_parked(core, workspace_id, "flaky", event.id)
    assert await worker.drain() == 1
    assert flaky.calls.count(event.id) == 6
    assert await parked(core, workspace_id, "flaky") == []


async def test_lag_counts_pending_events_and_the_oldest(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    recorder(core, ["test.tick"])
    first = await tick(core, workspace_id)
    clock.advance(5)
    await tick(core, workspace_id)
    [report] = await lag_of(core, workspace_id, "test-recorder")
    assert report.pending == 2 and report.oldest_pending_at == first.created_at
    await ConsumerWorker(core).drain()
    [report] = await lag_of(core, workspace_id, "test-recorder")
    assert report.pending == 0 and report.oldest_pending_at is None


async def test_a_claim_held_by_a_killed_worker_expires_and_another_handles_the_event(
    core: Core, second_process: Core, workspace_id: str, clock: ManualClock
) -> None:
    started = asyncio.Event()
    handled: list[str] = []

    async def slow(core: Core, event: Event) -> None:
        started.set()
        await asyncio.Event().wait()  # the process is killed while it works

    async def quick(core: Core, event: Event) -> None:
        handled.append(event.id)

    core.consumers.add(Consumer("work", ("test.tick",), slow))
    second_process.consumers.add(Consumer("work", ("test.tick",), quick))
    event = await tick(core, workspace_id)
    dying = asyncio.create_task(ConsumerWorker(core, lease_seconds=60).run_once())
    await started.wait()
    dying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dying

    survivor = ConsumerWorker(second_process)
    assert await survivor.drain() == 0  # still claimed
    clock.advance(61)
    assert await survivor.drain() == 1
    assert handled == [event.id]


async def test_a_slow_run_holds_its_own_conversation_only(core: Core, workspace_id: str) -> None:
    """A bot turn stuck in a 30 s webhook step must not hold every other customer's turn: the
    running worker claims past it, and keeps its conversation's later events waiting."""
    release, slow_started = asyncio.Event(), asyncio.Event()
    done = {n: asyncio.Event() for n in range(3)}
    handled: list[int] = []

    async def handle(core: Core, event: Event) -> None:
        if event.data["n"] == 0:
            slow_started.set()
            await release.wait()
        handled.append(event.data["n"])
        done[event.data["n"]].set()

    core.consumers.add(Consumer("work", ("test.tick",), handle))

    async def tick_in(conversation_id: str, n: int) -> None:
        event = build_event(
            core, workspace_id, "test.tick", conversation_id=conversation_id, data={"n": n}
        )
        assert await record(core, event)

    await tick_in("slow", 0)
    stop = asyncio.Event()
    # No periodic look within the test: only news of recorded events and ended runs wake it.
    worker = asyncio.create_task(ConsumerWorker(core, idle_seconds=3600).run_forever(stop))
    await asyncio.wait_for(slow_started.wait(), 30)
    await tick_in("slow", 1)  # waits behind the slow one: same conversation
    await tick_in("other", 2)  # recorded while the slow run goes on
    await asyncio.wait_for(done[2].wait(), 30)  # a bound for a broken build, not a timing
    assert handled == [2]

    release.set()
    await asyncio.wait_for(done[1].wait(), 30)
    stop.set()
    await worker
    assert handled == [2, 0, 1]


async def test_a_claim_lasts_real_seconds_when_the_demo_clock_runs_fast(
    core: Core, second_process: Core, workspace_id: str, clock: ManualClock
) -> None:
    """The demo's clock runs an hour a second: a claim on it would expire while its run goes
    on, and the event be handled twice."""
    ticks = [0.0]
    for process in (core, second_process):
        process.clock = ScaledClock(3600, base=clock, monotonic=lambda: ticks[0])
    started = asyncio.Event()

    async def slow(core: Core, event: Event) -> None:
        started.set()
        await asyncio.Event().wait()

    async def quick(core: Core, event: Event) -> None:
        handled.append(event.id)

    handled: list[str] = []
    core.consumers.add(Consumer("work", ("test.tick",), slow))
    second_process.consumers.add(Consumer("work", ("test.tick",), quick))
    event = await tick(core, workspace_id)
    running = asyncio.create_task(ConsumerWorker(core, lease_seconds=60).run_once())
    await started.wait()

    ticks[0] = 2.0  # two real seconds: two hours on the demo's clock
    assert await ConsumerWorker(second_process).drain() == 0
    clock.advance(61)  # the lease's real minute is over
    assert await ConsumerWorker(second_process).drain() == 1
    assert handled == [event.id]
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running


async def test_a_backlog_of_the_first_consumers_does_not_hold_back_the_others(
    core: Core, workspace_id: str
) -> None:
    """300 events pending for two consumers, more than the worker's room: the one installed
    last gets its turn while the first still has a backlog (each pass used to begin with the
    first consumer, whose batches filled the room again as soon as a run ended)."""
    order: list[str] = []
    stop = asyncio.Event()

    def handler(name: str) -> Callable[[Core, Event], Awaitable[None]]:
        async def handle(core: Core, event: Event) -> None:
            order.append(name)
            if len(order) == 600:
                stop.set()

        return handle

    core.consumers.add(Consumer("first-in-line", ("test.queued",), handler("first")))
    core.consumers.add(Consumer("behind", ("test.queued",), handler("behind")))
    events = [build_event(core, workspace_id, "test.queued", data={"n": n}) for n in range(300)]
    await record_many(core, events)

    worker = ConsumerWorker(core, batch_size=32, max_in_flight=32, idle_seconds=3600)
    await asyncio.wait_for(worker.run_forever(stop), 60)  # a bound for a broken build

    assert order.count("first") == order.count("behind") == 300
    assert order.index("behind") < 100, order.index("behind")
