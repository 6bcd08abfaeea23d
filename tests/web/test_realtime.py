"""The event feed behind the inbox's live updates: catch-up, live, other processes, order.

The tail's waits between reads of the log go through a `ManualTimer` the test releases by
hand, so "the next read" is an explicit step and nothing here waits on the wall clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pymongo.errors import AutoReconnect, OperationFailure

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.events import build_event, record
from kith.core.models import Event
from kith.core.pipeline import ingest
from kith.core.realtime import (
    FAILED_READ_RETRY_SECONDS,
    PUSHED_POLL_SECONDS,
    EventFeed,
    Pacer,
    event_cursor,
    feed_for,
    stream_cursor,
)
from kith.core.settings import Settings
from kith.core.storage import Store
from tests.support.cast import api_channel, inbound

DEADLINE = 5.0


class ManualTimer:
    """The tail's timer, released by the test: each `tick` lets exactly one read happen.

    A change stream's wakeup still ends a wait at once, as with the real timer."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._waiting = asyncio.Event()
        self._go = asyncio.Event()

    async def wait(self, seconds: float, wakeup: asyncio.Event) -> None:
        self.waits.append(seconds)
        self._waiting.set()
        go, woken = asyncio.ensure_future(self._go.wait()), asyncio.ensure_future(wakeup.wait())
        try:
            await asyncio.wait({go, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            go.cancel()
            woken.cancel()
        self._go.clear()

    async def tick(self, reads: int = 1) -> None:
        """Let the tail read the log `reads` times; returns once it waits again."""
        for _ in range(reads):
            await asyncio.wait_for(self._waiting.wait(), DEADLINE)
            self._waiting.clear()
            self._go.set()
            await asyncio.wait_for(self._waiting.wait(), DEADLINE)


async def take(events: AsyncIterator[Event], n: int) -> list[Event]:
    """The next `n` events, or a failure after DEADLINE seconds (never a sleep)."""

    async def collect() -> list[Event]:
        return [await anext(events) for _ in range(n)]

    return await asyncio.wait_for(collect(), DEADLINE)


async def log_event(core: Core, workspace_id: str, type_: str, conv: str | None = None) -> Event:
    event = build_event(core, workspace_id, type_, conversation_id=conv)
    assert await record(core, event)
    return event


async def marker(core: Core, workspace_id: str) -> Event:
    """An event to subscribe after: whatever is logged later arrives, by catch-up or live."""
    return await log_event(core, workspace_id, "test.marker")


async def next_is(events: AsyncIterator[Event], expected: Event) -> bool:
    """True when the next event is `expected`: nothing (a repeat) came before it."""
    return (await take(events, 1))[0].id == expected.id


async def live(core: Core, workspace_id: str, *streams: AsyncIterator[Event]) -> None:
    """Wait until every stream is past its catch-up: a local event reaches each of them."""
    pending = [asyncio.ensure_future(take(s, 1)) for s in streams]
    event = await log_event(core, workspace_id, "test.live")
    for got in pending:
        assert ids(await got) == [event.id]


def ids(events: list[Event]) -> list[str]:
    return [e.id for e in events]


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer()


@pytest.fixture
async def feed(core: Core, timer: ManualTimer) -> AsyncIterator[EventFeed]:
    feed = EventFeed(core, fastest=0.05, slowest=0.2, timer=timer)
    yield feed
    await feed.close()


async def test_feed_for_is_one_feed_per_core(core: Core) -> None:
    assert feed_for(core) is feed_for(core)
    assert feed_for(core)._on_event in core.event_listeners
    assert feed_for(core).poll_seconds == core.settings.realtime_poll_max_seconds


async def test_cursors_order_like_the_events(core: Core, workspace_id: str, clock: ManualClock):
    first = await log_event(core, workspace_id, "a")
    same_ms = await log_event(core, workspace_id, "b")
    clock.advance(0.001)
    later = await log_event(core, workspace_id, "c")
    cursors = [event_cursor(e) for e in (first, same_ms, later)]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3


async def test_a_stream_cursor_never_moves_back(core: Core, workspace_id: str, clock: ManualClock):
    """A late event reaching a stream after a later-stamped one must not move the resume
    point back: resuming there would send the later one again."""
    early = build_event(core, workspace_id, "early")
    clock.advance(1)
    later = build_event(core, workspace_id, "later")
    cursor = stream_cursor(None, later)
    assert stream_cursor(cursor, early) == cursor == event_cursor(later)
    assert stream_cursor(event_cursor(early), later) == event_cursor(later)


async def test_live_events_arrive_in_order(core: Core, workspace_id: str, feed: EventFeed):
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    pending = asyncio.ensure_future(take(events, 3))
    logged = [await log_event(core, workspace_id, t) for t in ("one", "two", "three")]
    assert ids(await pending) == ids(logged)
    await events.aclose()


async def test_catch_up_after_a_cursor_then_live(
    core: Core, workspace_id: str, feed: EventFeed, timer: ManualTimer, clock: ManualClock
):
    seen = await log_event(core, workspace_id, "seen")
    clock.advance(1)
    missed = [await log_event(core, workspace_id, f"missed-{i}") for i in range(3)]
    events = feed.subscribe(workspace_id, after=event_cursor(seen))
    assert ids(await take(events, 3)) == ids(missed)
    current = await log_event(core, workspace_id, "live")
    assert ids(await take(events, 1)) == [current.id]
    await timer.tick(3)
    assert await next_is(events, await log_event(core, workspace_id, "sentinel"))
    await events.aclose()


async def test_catch_up_pages_through_a_long_absence(
    core: Core, workspace_id: str, feed: EventFeed, clock: ManualClock, monkeypatch
):
    monkeypatch.setattr("kith.core.realtime.CATCH_UP_BATCH", 4)
    first = await log_event(core, workspace_id, "first")
    missed = []
    for i in range(10):
        clock.advance(0.5)
        missed.append(await log_event(core, workspace_id, f"m{i}"))
    events = feed.subscribe(workspace_id, after=event_cursor(first))
    assert ids(await take(events, 10)) == ids(missed)
    await events.aclose()


async def test_an_event_logged_by_another_process_arrives_on_the_next_read(
    core: Core, second_process: Core, workspace_id: str, feed: EventFeed, timer: ManualTimer
):
    channel, _ = await api_channel(second_process, workspace_id)
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    local = await log_event(core, workspace_id, "local")
    assert ids(await take(events, 1)) == [local.id]  # past its catch-up: live from here
    waiting = asyncio.ensure_future(anext(events))
    received = await ingest(second_process, channel, inbound(channel, "ada", "from process two"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()  # no read of the log yet: the other process is not heard
    await timer.tick()
    event = await asyncio.wait_for(waiting, DEADLINE)
    assert event.type == "message.received" and event.message_id == received.message.id
    await timer.tick(3)
    assert await next_is(events, await log_event(core, workspace_id, "sentinel"))
    await events.aclose()


async def test_no_repeats_across_reads_and_the_local_bus_then_resume_after_last_event_id(
    core: Core, second_process: Core, workspace_id: str, feed: EventFeed, timer: ManualTimer
):
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    await live(core, workspace_id, events)
    first = [
        await log_event(second_process, workspace_id, "remote-1"),
        await log_event(core, workspace_id, "local-1"),
        await log_event(second_process, workspace_id, "remote-2"),
    ]
    got = await take(events, 1)
    assert ids(got) == [first[1].id]  # the local one, at once
    await timer.tick()
    got += await take(events, 2)
    assert ids(got) == ids([first[1], first[0], first[2]])
    await timer.tick(3)  # every later read sees the same window again, and skips it
    sentinel = await log_event(second_process, workspace_id, "sentinel")
    await timer.tick()
    assert await next_is(events, sentinel)
    last_event_id = stream_cursor(event_cursor(got[-1]), sentinel)
    await events.aclose()
    missed = [
        await log_event(second_process, workspace_id, "missed-remote"),
        await log_event(core, workspace_id, "missed-local"),
    ]
    events = feed.subscribe(workspace_id, after=last_event_id)
    assert ids(await take(events, 2)) == ids(missed)
    later = await log_event(second_process, workspace_id, "live")
    await timer.tick(3)
    assert ids(await take(events, 1)) == [later.id]
    assert await next_is(events, await log_event(core, workspace_id, "sentinel-2"))
    await events.aclose()


async def test_one_read_of_the_log_serves_every_stream_of_the_process(
    core: Core, second_process: Core, workspace_id: str, feed: EventFeed, timer: ManualTimer
):
    after = event_cursor(await marker(core, workspace_id))
    other_after = event_cursor(await marker(core, "workspace-two"))
    streams = [
        feed.subscribe(workspace_id, after=after),
        feed.subscribe(workspace_id, after=after),
        feed.subscribe("workspace-two", after=other_after),
    ]
    await live(core, workspace_id, *streams[:2])
    await live(core, "workspace-two", streams[2])
    pending = [asyncio.ensure_future(anext(s)) for s in streams]
    assert feed.tail is not None and set(feed.tail.subscribers) == {workspace_id, "workspace-two"}
    reads = feed.tail.reads
    ours = await log_event(second_process, workspace_id, "ours")
    theirs = await log_event(second_process, "workspace-two", "theirs")
    await timer.tick()
    assert feed.tail.reads == reads + 1
    got = [(await asyncio.wait_for(p, DEADLINE)).id for p in pending]
    assert got == [ours.id, ours.id, theirs.id]
    for stream in streams:
        await stream.aclose()


async def test_reads_come_fast_while_events_flow_and_back_off_when_idle(
    core: Core, second_process: Core, workspace_id: str, feed: EventFeed, timer: ManualTimer
):
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    waiting = asyncio.ensure_future(anext(events))
    await timer.tick(5)  # idle: each empty read waits longer, up to the slowest
    assert timer.waits == pytest.approx([0.05, 0.075, 0.1125, 0.16875, 0.2, 0.2])
    await log_event(core, workspace_id, "local")  # this process's own: no read needed
    await asyncio.wait_for(waiting, DEADLINE)
    await timer.tick()
    assert timer.waits[-1] == 0.2
    await log_event(second_process, workspace_id, "remote")
    await timer.tick()
    assert timer.waits[-1] == 0.05  # another process is busy: look again soon
    await timer.tick()
    assert timer.waits[-1] == pytest.approx(0.075)
    await events.aclose()


class LostConnection:
    """A `find` whose answer never comes back: the connection dropped (driver boundary)."""

    def sort(self, *args: object) -> LostConnection:
        return self

    async def to_list(self, length: object = None) -> list[dict]:
        raise AutoReconnect("connection closed")


async def test_a_failed_read_is_retried_a_second_later_and_loses_nothing(
    core: Core,
    second_process: Core,
    workspace_id: str,
    feed: EventFeed,
    timer: ManualTimer,
    monkeypatch,
    caplog,
):
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    await live(core, workspace_id, events)
    logged = await log_event(second_process, workspace_id, "during the outage")
    monkeypatch.setattr(core.store.events, "find", lambda *a, **k: LostConnection())
    await timer.tick()
    assert timer.waits[-1] == FAILED_READ_RETRY_SECONDS
    assert "event tail read failed" in caplog.text
    monkeypatch.undo()
    await timer.tick()
    assert ids(await take(events, 1)) == [logged.id]
    assert timer.waits[-1] == 0.05
    await events.aclose()


def test_the_pacer_tightens_on_events_and_backs_off_to_its_slowest() -> None:
    pacer = Pacer(fastest=0.1, slowest=1.0, backoff=2.0)
    assert pacer.interval == 0.1
    assert [pacer.after_read(False) for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert pacer.after_read(True) == 0.1
    assert pacer.after_read(False) == 0.2
    with pytest.raises(ValueError):
        Pacer(fastest=0.5, slowest=0.1)


def test_poll_settings_are_checked_at_start_up() -> None:
    with pytest.raises(ValueError, match="realtime_poll_min_seconds"):
        Settings(realtime_poll_min_seconds=1, realtime_poll_max_seconds=0.5, _env_file=None)  # type: ignore[call-arg]


async def test_another_process_s_events_arrive_in_the_events_order_not_the_commit_order(
    core: Core,
    second_process: Core,
    workspace_id: str,
    feed: EventFeed,
    timer: ManualTimer,
    clock: ManualClock,
):
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    await live(core, workspace_id, events)
    waiting = asyncio.ensure_future(take(events, 3))
    stamped = []
    for name in ("first", "second", "third"):
        clock.advance(0.01)
        stamped.append(build_event(second_process, workspace_id, name))
    for event in reversed(stamped):
        assert await record(second_process, event)
    await timer.tick()
    assert ids(await asyncio.wait_for(waiting, DEADLINE)) == ids(stamped)
    await events.aclose()


async def test_an_event_committed_late_still_arrives_once(
    core: Core,
    second_process: Core,
    workspace_id: str,
    feed: EventFeed,
    timer: ManualTimer,
    clock: ManualClock,
):
    """Stamped before an event already passed on, committed after it: a slow write arrives
    on the next read, a clock 3 s behind on the next full sweep of the look-back window."""
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    behind = build_event(second_process, workspace_id, "clock behind")
    clock.advance(2.7)
    slow = build_event(second_process, workspace_id, "slow write")
    clock.advance(0.3)
    ahead = await log_event(core, workspace_id, "already passed on")
    assert ids(await take(events, 1)) == [ahead.id]
    await timer.tick()  # a full sweep of the look-back window: nothing new yet
    assert await record(second_process, slow) and await record(second_process, behind)
    await timer.tick()
    assert ids(await take(events, 1)) == [slow.id]
    await timer.tick(2)  # within a second of the last sweep: the recent window only
    clock.advance(1)
    await timer.tick()
    assert ids(await take(events, 1)) == [behind.id]
    await timer.tick(3)
    assert await next_is(events, await log_event(core, workspace_id, "sentinel"))
    await events.aclose()


async def test_after_a_late_event_the_next_read_looks_back_the_whole_window(
    core: Core,
    second_process: Core,
    workspace_id: str,
    feed: EventFeed,
    timer: ManualTimer,
    clock: ManualClock,
):
    """Late commits come in spells (an overloaded engine): once one is found 0.6 s late,
    the next read does not wait for the periodic sweep to find one 3 s late."""
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    behind = build_event(second_process, workspace_id, "3 s late")
    clock.advance(2.4)
    slow = build_event(second_process, workspace_id, "0.6 s late")
    clock.advance(0.6)
    await live(core, workspace_id, events)
    await timer.tick()  # the first read sweeps the whole window: nothing new yet
    assert await record(second_process, slow) and await record(second_process, behind)
    await timer.tick()
    assert ids(await take(events, 1)) == [slow.id]
    await timer.tick()
    assert ids(await take(events, 1)) == [behind.id]
    await timer.tick(3)
    assert await next_is(events, await log_event(core, workspace_id, "sentinel"))
    await events.aclose()


async def test_bursts_from_several_processes_arrive_once_each(
    core: Core, settings, workspace_id: str, feed: EventFeed, timer: ManualTimer
):
    processes = [
        Core(
            store=core.store if core.store.embedded else Store.from_settings(settings),
            settings=settings,
            channels=core.channels,
            clock=core.clock,
        )
        for _ in range(3)
    ]
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    await live(core, workspace_id, events)

    async def burst(process: Core, n: int) -> list[Event]:
        return [await log_event(process, workspace_id, f"burst-{n}-{i}") for i in range(20)]

    async def reading() -> None:
        for _ in range(10):
            await timer.tick()

    *bursts, _ = await asyncio.gather(*(burst(p, n) for n, p in enumerate(processes)), reading())
    await timer.tick()
    logged = [e for b in bursts for e in b]
    got = await take(events, len(logged))
    assert sorted(ids(got)) == sorted(ids(logged))
    await timer.tick(3)
    assert await next_is(events, await log_event(core, workspace_id, "sentinel"))
    await events.aclose()
    for process in processes:
        await process.http.aclose()
        if process.store is not core.store:
            await process.store.close()


async def test_conversation_filter(core: Core, workspace_id: str, feed: EventFeed):
    start = event_cursor(await marker(core, workspace_id))
    events = feed.subscribe(workspace_id, after=start, conversation_id="c-2")
    got = asyncio.ensure_future(take(events, 2))
    await log_event(core, workspace_id, "x", "c-1")
    mine = [
        await log_event(core, workspace_id, "y", "c-2"),
        await log_event(core, workspace_id, "z", "c-2"),
    ]
    await log_event(core, workspace_id, "x", "c-1")
    assert ids(await got) == ids(mine)
    assert await next_is(events, await log_event(core, workspace_id, "end", "c-2"))
    await events.aclose()


async def test_other_workspaces_never_leak(
    core: Core, second_process: Core, workspace_id: str, feed: EventFeed, timer: ManualTimer
):
    start = event_cursor(await marker(core, workspace_id))
    events = feed.subscribe(workspace_id, after=start)
    got = asyncio.ensure_future(take(events, 2))
    await log_event(core, "another-workspace", "secret")
    await log_event(second_process, "another-workspace", "secret too")
    ours = await log_event(core, workspace_id, "ours")
    await timer.tick()
    remote = await log_event(second_process, workspace_id, "ours, remote")
    await timer.tick()
    assert ids(await got) == [ours.id, remote.id]
    await events.aclose()


async def test_a_malformed_cursor_is_refused(core: Core, workspace_id: str, feed: EventFeed):
    with pytest.raises(InvalidInput):
        await anext(feed.subscribe(workspace_id, after="'; drop"))


async def test_a_closed_stream_stops_its_work(
    core: Core, second_process: Core, workspace_id: str, feed: EventFeed, timer: ManualTimer
):
    start = event_cursor(await marker(core, workspace_id))
    first, second = (feed.subscribe(workspace_id, after=start) for _ in range(2))
    await live(core, workspace_id, first, second)
    tail = feed.tail
    assert tail is not None and tail.task is not None
    await first.aclose()
    assert feed.tail is tail  # the other stream still listens
    await timer.tick()
    await second.aclose()
    assert feed.tail is None and tail.task is None and tail.subscribers == {}
    reads = tail.reads
    unheard = await log_event(second_process, workspace_id, "nobody listens")
    assert tail.reads == reads and core.event_listeners  # the feed itself stays for later
    again = feed.subscribe(workspace_id, after=start)
    assert ids(await take(again, 2))[1] == unheard.id  # after test.live: caught up
    assert feed.tail is not None and feed.tail is not tail
    await again.aclose()


class ChangeStreams:
    """A replica set's change streams on `events`, at the driver's boundary (no replica set
    runs here): the test sends the change a server would send for an insert."""

    def __init__(self, refuse: bool = False) -> None:
        self.changes: asyncio.Queue[dict] = asyncio.Queue()
        self.refuse = refuse
        self.opened = asyncio.Event()

    async def watch(self, pipeline: list[dict], resume_after: object = None) -> ChangeStreams:
        if self.refuse:  # what DocumentDB and standalone servers answer
            raise OperationFailure("Stage $changeStream is not supported", code=115)
        assert pipeline[0] == {"$match": {"operationType": "insert"}}
        self.opened.set()
        return self

    async def __aenter__(self) -> ChangeStreams:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __aiter__(self) -> ChangeStreams:
        return self

    async def __anext__(self) -> dict:
        change = await self.changes.get()
        self.resume_token = change["_id"]
        return change


async def test_a_change_stream_wakes_the_tail_at_once(
    core: Core,
    second_process: Core,
    workspace_id: str,
    feed: EventFeed,
    timer: ManualTimer,
    monkeypatch,
):
    streams = ChangeStreams()
    monkeypatch.setattr(core.store.events, "watch", streams.watch, raising=False)
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    waiting = asyncio.ensure_future(anext(events))
    await asyncio.wait_for(streams.opened.wait(), DEADLINE)
    assert feed.pushed
    logged = await log_event(second_process, workspace_id, "from process two")
    for n, workspace in enumerate(("another-workspace", workspace_id)):
        change = {"operationType": "insert", "fullDocument": {"workspace_id": workspace}}
        await streams.changes.put({"_id": {"_data": f"{n:02d}"}, **change})
    # The timer is never ticked: only the change stream's wakeup can bring it.
    assert (await asyncio.wait_for(waiting, DEADLINE)).id == logged.id
    assert timer.waits[-1] == PUSHED_POLL_SECONDS  # reads only back the change stream up
    await events.aclose()


async def test_without_change_streams_the_log_is_polled(
    core: Core,
    second_process: Core,
    workspace_id: str,
    feed: EventFeed,
    timer: ManualTimer,
    monkeypatch,
):
    monkeypatch.setattr(core.store.events, "watch", ChangeStreams(refuse=True).watch, raising=False)
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    waiting = asyncio.ensure_future(anext(events))
    logged = await log_event(second_process, workspace_id, "from process two")
    await timer.tick()
    assert (await asyncio.wait_for(waiting, DEADLINE)).id == logged.id
    assert feed._watcher is not None
    await asyncio.wait_for(asyncio.shield(feed._watcher), DEADLINE)
    assert not feed.pushed
    await events.aclose()
