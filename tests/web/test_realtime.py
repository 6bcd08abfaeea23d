"""The event feed behind the inbox's live updates: catch-up, live, other processes, order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pymongo.errors import OperationFailure

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.events import build_event, record
from kith.core.models import Event
from kith.core.pipeline import ingest
from kith.core.realtime import EventFeed, event_cursor, feed_for
from kith.core.storage import Store
from tests.support.cast import api_channel, inbound

DEADLINE = 5.0


async def take(events: AsyncIterator[Event], n: int) -> list[Event]:
    """The next `n` events, or a failure after DEADLINE seconds (never a sleep)."""

    async def collect() -> list[Event]:
        return [await anext(events) for _ in range(n)]

    return await asyncio.wait_for(collect(), DEADLINE)


async def nothing_more(events: AsyncIterator[Event], feed: EventFeed, rounds: int = 3) -> bool:
    """True when no further event arrives across a few polls of the log."""
    try:
        await asyncio.wait_for(anext(events), feed.poll_seconds * rounds)
    except TimeoutError:
        return True
    return False


async def log_event(core: Core, workspace_id: str, type_: str, conv: str | None = None) -> Event:
    event = build_event(core, workspace_id, type_, conversation_id=conv)
    assert await record(core, event)
    return event


async def marker(core: Core, workspace_id: str) -> Event:
    """An event to subscribe after: whatever is logged later arrives, by catch-up or live."""
    return await log_event(core, workspace_id, "test.marker")


@pytest.fixture
def feed(core: Core) -> EventFeed:
    return EventFeed(core, poll_seconds=0.02)


async def test_feed_for_is_one_feed_per_core(core: Core) -> None:
    assert feed_for(core) is feed_for(core)
    assert feed_for(core)._on_event in core.event_listeners


async def test_cursors_order_like_the_events(core: Core, workspace_id: str, clock: ManualClock):
    first = await log_event(core, workspace_id, "a")
    same_ms = await log_event(core, workspace_id, "b")
    clock.advance(0.001)
    later = await log_event(core, workspace_id, "c")
    cursors = [event_cursor(e) for e in (first, same_ms, later)]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3


async def test_live_events_arrive_in_order(core: Core, workspace_id: str, feed: EventFeed):
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    pending = asyncio.ensure_future(take(events, 3))
    logged = [await log_event(core, workspace_id, t) for t in ("one", "two", "three")]
    assert [e.id for e in await pending] == [e.id for e in logged]
    await events.aclose()


async def test_catch_up_after_a_cursor_then_live(
    core: Core, workspace_id: str, feed: EventFeed, clock: ManualClock
):
    seen = await log_event(core, workspace_id, "seen")
    clock.advance(1)
    missed = [await log_event(core, workspace_id, f"missed-{i}") for i in range(3)]
    events = feed.subscribe(workspace_id, after=event_cursor(seen))
    assert [e.id for e in await take(events, 3)] == [e.id for e in missed]
    live = await log_event(core, workspace_id, "live")
    assert [e.id for e in await take(events, 1)] == [live.id]
    assert await nothing_more(events, feed)
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
    assert [e.id for e in await take(events, 10)] == [e.id for e in missed]
    await events.aclose()


async def test_an_event_logged_by_another_process_arrives(
    core: Core, workspace_id: str, feed: EventFeed
):
    """Two Core objects on one database stand for two `kith serve` processes."""
    other = Core(
        store=Store(client=core.store.client, db=core.store.db, embedded=core.store.embedded),
        settings=core.settings,
        channels=core.channels,
        clock=core.clock,
    )
    channel, _ = await api_channel(other, workspace_id)
    start = event_cursor(await marker(core, workspace_id))
    events = feed.subscribe(workspace_id, after=start)
    live = await log_event(core, workspace_id, "live")
    assert [e.id for e in await take(events, 1)] == [live.id]
    waiting = asyncio.ensure_future(anext(events))
    for _ in range(3):  # the subscriber is now past its catch-up, waiting for live events
        await asyncio.sleep(0)
    assert not waiting.done()
    received = await ingest(other, channel, inbound(channel, "ada", "from process two"))
    event = await asyncio.wait_for(waiting, DEADLINE)
    assert event.type == "message.received" and event.message_id == received.message.id
    assert await nothing_more(events, feed)
    await events.aclose()
    await other.http.aclose()


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
    assert [e.id for e in await got] == [e.id for e in mine]
    assert await nothing_more(events, feed)
    await events.aclose()


async def test_other_workspaces_never_leak(core: Core, workspace_id: str, feed: EventFeed):
    start = event_cursor(await marker(core, workspace_id))
    events = feed.subscribe(workspace_id, after=start)
    got = asyncio.ensure_future(take(events, 1))
    await log_event(core, "another-workspace", "secret")
    ours = await log_event(core, workspace_id, "ours")
    assert [e.id for e in await got] == [ours.id]
    await events.aclose()


async def test_no_event_twice_across_catch_up_polls_and_the_local_bus(
    core: Core, workspace_id: str, feed: EventFeed, clock: ManualClock
):
    start = await log_event(core, workspace_id, "start")
    before = [await log_event(core, workspace_id, f"b{i}") for i in range(3)]
    events = feed.subscribe(workspace_id, after=event_cursor(start))
    got = await take(events, 3)
    after = [await log_event(core, workspace_id, f"a{i}") for i in range(3)]
    got += await take(events, 3)  # these come by the local bus and by several polls
    assert [e.id for e in got] == [e.id for e in before + after]
    assert await nothing_more(events, feed, rounds=10)
    await events.aclose()


async def test_a_malformed_cursor_is_refused(core: Core, workspace_id: str, feed: EventFeed):
    with pytest.raises(InvalidInput):
        await anext(feed.subscribe(workspace_id, after="'; drop"))


async def test_a_closed_subscription_stops_its_tail(core: Core, workspace_id: str, feed: EventFeed):
    start = event_cursor(await marker(core, workspace_id))
    events = feed.subscribe(workspace_id, after=start)
    got = asyncio.ensure_future(take(events, 1))
    await log_event(core, workspace_id, "one")
    await got
    await events.aclose()
    assert feed._tails == {}


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


def second_process(core: Core) -> Core:
    return Core(
        store=Store(client=core.store.client, db=core.store.db, embedded=core.store.embedded),
        settings=core.settings,
        channels=core.channels,
        clock=core.clock,
    )


async def test_a_change_stream_wakes_the_tail_at_once(core: Core, workspace_id: str, monkeypatch):
    streams = ChangeStreams()
    monkeypatch.setattr(core.store.events, "watch", streams.watch, raising=False)
    feed = EventFeed(core, poll_seconds=3600)  # only the change stream can bring it in time
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    waiting = asyncio.ensure_future(anext(events))
    await asyncio.wait_for(streams.opened.wait(), DEADLINE)
    assert feed.pushed
    other = second_process(core)
    logged = await log_event(other, workspace_id, "from process two")
    for n, workspace in enumerate(("another-workspace", workspace_id)):
        change = {"operationType": "insert", "fullDocument": {"workspace_id": workspace}}
        await streams.changes.put({"_id": {"_data": f"{n:02d}"}, **change})
    assert (await asyncio.wait_for(waiting, DEADLINE)).id == logged.id
    await events.aclose()
    await feed.close()
    await other.http.aclose()


async def test_without_change_streams_the_log_is_polled(core: Core, workspace_id: str, monkeypatch):
    monkeypatch.setattr(core.store.events, "watch", ChangeStreams(refuse=True).watch, raising=False)
    feed = EventFeed(core, poll_seconds=0.02)
    events = feed.subscribe(workspace_id, after=event_cursor(await marker(core, workspace_id)))
    waiting = asyncio.ensure_future(anext(events))
    other = second_process(core)
    logged = await log_event(other, workspace_id, "from process two")
    assert (await asyncio.wait_for(waiting, DEADLINE)).id == logged.id
    assert not feed.pushed and feed._watcher is not None and feed._watcher.done()
    await events.aclose()
    await feed.close()
    await other.http.aclose()
