"""The real-time event feed: every event of a workspace, in order, to browsers and widgets.

Events reach a subscriber two ways, merged and de-duplicated here:
- from this process, at once, through `core.event_listeners` (the in-process bus);
- from other `kith serve` processes, through the process's one tail of the `events`
  collection: a single read covers every workspace that has subscribers in this process,
  however many streams are open. On a replica set or sharded cluster a change stream on
  `events` wakes that read as soon as any process logs an event; elsewhere (the embedded
  engine, DocumentDB) the tail reads on a `Pacer`'s schedule: every `realtime_poll_min_seconds`
  while other processes' events keep coming, backing off to `realtime_poll_max_seconds` when
  none do. The change stream only says "look now": the tailing read stays the one source of
  order and catch-up, whichever woke it. With no subscriber left the tail stops.

There is no global sequence: events are ordered by (`created_at`, `_id`). An event can be
committed a moment after a later-stamped one (another process, a slow write), so each read
looks back past the newest event seen and skips (`$nin`) the ids it has already passed on:
`RECENT` on every read, the whole `LOOKBACK` once every `SWEEP_EVERY` and on every read
after one that found an event stamped more than `RECENT / 2` late (late commits come in
spells: an overloaded engine, a process whose clock is behind). An event committed more
than `LOOKBACK` after a later-stamped one (processes whose clocks disagree by that much) can
be missed.

A subscriber that reconnects passes the cursor of the last event it saw (SSE's
`Last-Event-ID`) and first gets everything logged after it from the collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo.errors import OperationFailure, PyMongoError

from kith.core.clock import aware
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.models import Event

log = logging.getLogger(__name__)

LOOKBACK = timedelta(seconds=5)
RECENT = timedelta(seconds=1)
SWEEP_EVERY = timedelta(seconds=1)
CATCH_UP_BATCH = 500
QUEUE_LIMIT = 10_000
_SEEN_LIMIT = 4096
CHANGE_STREAM_HISTORY_LOST = 286
WATCH_RETRY_SECONDS = 1.0
PUSHED_POLL_SECONDS = 1.0  # with a change stream open, reads only back it up
FAILED_READ_RETRY_SECONDS = 1.0  # a database that is down is not asked ten times a second
_Key = tuple[datetime, str]


def _millis(moment: datetime) -> int:
    return int(aware(moment).timestamp() * 1000)


def event_cursor(event: Event) -> str:
    """An opaque cursor of one event; cursors of events compare as the events are ordered."""
    return f"{_millis(event.created_at):015d}_{event.id}"


def stream_cursor(previous: str | None, event: Event) -> str:
    """The cursor to resume a stream at after `event`: never behind one already sent.

    An event committed late can reach a stream after a later-stamped one; resuming after its
    own cursor would then send the later one twice.
    """
    cursor = event_cursor(event)
    return cursor if previous is None or cursor > previous else previous


def parse_cursor(cursor: str) -> _Key:
    """The (created_at, _id) key behind a cursor; `InvalidInput` when it is not one of ours."""
    millis, sep, event_id = cursor.partition("_")
    if not sep or not millis.isdigit() or len(millis) != 15 or not event_id or len(event_id) > 128:
        raise InvalidInput("malformed event cursor", field="cursor")
    return datetime.fromtimestamp(int(millis) / 1000, tz=UTC), event_id


def _key(event: Event) -> _Key:
    return aware(event.created_at), event.id


def _after_filter(key: _Key) -> dict[str, Any]:
    moment, event_id = key
    return {
        "$or": [{"created_at": {"$gt": moment}}, {"created_at": moment, "_id": {"$gt": event_id}}]
    }


class Pacer:
    """How long the tail waits before its next read: `fastest` right after a read that found
    another process's events (more are likely on their way), then `backoff` times longer after
    each read that found none, up to `slowest`, the worst case for an event after a lull."""

    def __init__(self, fastest: float, slowest: float, backoff: float = 1.5) -> None:
        if not 0 < fastest <= slowest or backoff < 1:
            raise ValueError("need 0 < fastest <= slowest and backoff >= 1")
        self.fastest, self.slowest, self.backoff = fastest, slowest, backoff
        self.interval = fastest

    def after_read(self, found: bool) -> float:
        """The wait before the next read, given whether this one found anything new."""
        self.interval = self.fastest if found else min(self.slowest, self.interval * self.backoff)
        return self.interval


class Timer(Protocol):
    """Waits between the tail's reads; tests pass one they release by hand."""

    async def wait(self, seconds: float, wakeup: asyncio.Event) -> None: ...


class LoopTimer:
    """`seconds` on the event loop's clock, cut short when `wakeup` is set."""

    async def wait(self, seconds: float, wakeup: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), seconds)


@dataclass(eq=False)
class _Subscriber:
    workspace_id: str
    conversation_id: str | None
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        if self.conversation_id is not None and event.conversation_id != self.conversation_id:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class _Tail:
    """The process's one reader of the event log, for every workspace with subscribers."""

    def __init__(self, feed: EventFeed) -> None:
        self.feed = feed
        self.core = feed.core
        self.subscribers: dict[str, set[_Subscriber]] = {}
        self.priming: dict[str, asyncio.Future[None]] = {}
        self.position: datetime | None = None  # the newest event seen
        self.seen: dict[str, datetime] = {}  # ids passed on within LOOKBACK of `position`
        self.swept: datetime | None = None
        self.late = False  # the last read found an event stamped well before `position`
        self.task: asyncio.Task[None] | None = None
        self.wakeup = asyncio.Event()  # set by the change stream: another process logged
        self.reads = 0

    async def join(self, subscriber: _Subscriber) -> None:
        """Add a subscriber; a workspace new to the tail first has its recent past marked as
        seen, so that only what is logged from now on reaches its streams live."""
        workspace_id = subscriber.workspace_id
        while workspace_id not in self.subscribers:
            pending = self.priming.get(workspace_id)
            if pending is not None:
                await asyncio.shield(pending)
                continue
            pending = self.priming[workspace_id] = asyncio.get_running_loop().create_future()
            try:
                await self._prime(workspace_id)
            except BaseException as exc:
                pending.set_exception(exc)
                pending.exception()  # retrieved: waiting joiners get it raised
                raise
            finally:
                del self.priming[workspace_id]
            pending.set_result(None)
            self.subscribers[workspace_id] = set()
        self.subscribers[workspace_id].add(subscriber)
        if self.task is None:
            self.task = asyncio.create_task(self._run(), name="event-tail")

    def leave(self, subscriber: _Subscriber) -> bool:
        """Remove a subscriber; True when the tail has none left."""
        group = self.subscribers.get(subscriber.workspace_id)
        if group is not None:
            group.discard(subscriber)
            if not group:
                del self.subscribers[subscriber.workspace_id]
        return not self.subscribers and not self.priming

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    def deliver(self, event: Event) -> None:
        """Pass `event` on once, whichever way it arrived first."""
        if event.id in self.seen:
            return
        moment = _key(event)[0]
        self.seen[event.id] = moment
        if self.position is None or moment > self.position:
            self.position = moment
        for subscriber in list(self.subscribers.get(event.workspace_id, ())):
            subscriber.offer(event)

    def _prune(self) -> None:
        if self.position is None:
            return
        horizon = self.position - LOOKBACK
        for event_id in [i for i, moment in self.seen.items() if moment < horizon]:
            del self.seen[event_id]

    async def _prime(self, workspace_id: str) -> None:
        events = self.core.store.events
        base = self.position
        if base is None:
            latest = await events.find_one(
                {"workspace_id": workspace_id}, {"created_at": 1}, sort=[("created_at", -1)]
            )
            base = aware(latest["created_at"]) if latest else self.core.clock.now()
            self.position = base if self.position is None else max(self.position, base)
        query = {"workspace_id": workspace_id, "created_at": {"$gte": base - LOOKBACK}}
        for doc in await events.find(query, {"created_at": 1}).to_list(None):
            moment = aware(doc["created_at"])
            self.seen[doc["_id"]] = moment
            if self.position is None or moment > self.position:
                self.position = moment

    async def read(self) -> bool:
        """One read of the log for every tailed workspace; True when it found events."""
        if not self.subscribers or self.position is None:
            return False
        now = self.core.clock.now()
        sweep = self.late or self.swept is None or now - self.swept >= SWEEP_EVERY
        before = self.position
        since = before - (LOOKBACK if sweep else RECENT)
        query: dict[str, Any] = {
            "workspace_id": {"$in": list(self.subscribers)},
            "created_at": {"$gte": since},
        }
        passed = [event_id for event_id, moment in self.seen.items() if moment >= since]
        if passed:
            query["_id"] = {"$nin": passed}
        cursor = self.core.store.events.find(query).sort([("created_at", 1), ("_id", 1)])
        self.reads += 1
        found, self.late = False, False
        for doc in await cursor.to_list(None):
            if doc["_id"] not in self.seen:  # the local bus may have brought it meanwhile
                found = True
                event = Event.from_doc(doc)
                self.late = self.late or before - _key(event)[0] > RECENT / 2
                self.deliver(event)
        if sweep:
            self.swept = now
        self._prune()
        return found

    async def _run(self) -> None:
        pacer, failed = self.feed.pacer(), False
        while True:
            interval = PUSHED_POLL_SECONDS if self.feed.pushed else pacer.interval
            if failed:
                interval = max(interval, FAILED_READ_RETRY_SECONDS)
            await self.feed.timer.wait(interval, self.wakeup)
            self.wakeup.clear()
            try:
                pacer.after_read(await self.read())
                failed = False
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event tail read failed")
                failed = True


class EventFeed:
    """The process's fan-out of workspace events to any number of subscribers."""

    def __init__(
        self,
        core: Core,
        *,
        fastest: float | None = None,
        slowest: float | None = None,
        timer: Timer | None = None,
    ) -> None:
        self.core = core
        self.fastest = fastest if fastest is not None else core.settings.realtime_poll_min_seconds
        self.slowest = slowest if slowest is not None else core.settings.realtime_poll_max_seconds
        Pacer(self.fastest, self.slowest)  # refuse a bad pair now, not in the tail's task
        self.timer: Timer = timer or LoopTimer()
        self.pushed = False  # a change stream is open: the tail wakes on every insert
        self.tail: _Tail | None = None
        self._watcher: asyncio.Task[None] | None = None
        core.event_listeners.append(self._on_event)

    @property
    def poll_seconds(self) -> float:
        """The longest the tail waits between reads of the log (after a lull)."""
        return self.slowest

    def pacer(self) -> Pacer:
        return Pacer(self.fastest, self.slowest)

    def _start_watching(self) -> None:
        if self._watcher is None:  # an engine without change streams refuses at once
            self._watcher = asyncio.create_task(self._watch(), name="event-change-stream")

    async def _watch(self) -> None:
        """Wake the tail on each insert into a tailed workspace's events, resuming after a
        dropped connection; a server without change streams is left to the polling."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"operationType": "insert"}},
            {"$project": {"fullDocument.workspace_id": 1}},
        ]
        token, opened = None, False
        while True:
            try:
                async with await self.core.store.events.watch(
                    pipeline, resume_after=token
                ) as stream:
                    opened = self.pushed = True
                    async for change in stream:
                        token = stream.resume_token
                        tail = self.tail
                        if tail is not None and change["fullDocument"]["workspace_id"] in (
                            tail.subscribers
                        ):
                            tail.wakeup.set()
            except OperationFailure as exc:
                if not opened:
                    log.info("no change streams here (%s): polling the event log", exc.code)
                    return
                if exc.code == CHANGE_STREAM_HISTORY_LOST:
                    token = None  # start afresh; the tailing read catches up on the gap
                log.warning("event change stream failed; reopening", exc_info=True)
            except PyMongoError:
                log.warning("event change stream lost; reopening", exc_info=True)
            self.pushed = False
            await asyncio.sleep(WATCH_RETRY_SECONDS)

    def _on_event(self, event: Event) -> None:
        """Called synchronously by `kith.core.events.record`: only hands the event on."""
        if self.tail is not None and event.workspace_id in self.tail.subscribers:
            self.tail.deliver(event)

    async def _join(self, subscriber: _Subscriber) -> _Tail:
        if self.tail is None:
            self.tail = _Tail(self)
        tail = self.tail
        try:
            await tail.join(subscriber)
        except BaseException:
            await self._leave(tail, subscriber)
            raise
        self._start_watching()
        return tail

    async def _leave(self, tail: _Tail, subscriber: _Subscriber) -> None:
        if tail.leave(subscriber) and self.tail is tail:
            self.tail = None
            await tail.stop()

    async def _catch_up(self, subscriber: _Subscriber, after: _Key) -> AsyncIterator[Event]:
        base: dict[str, Any] = {"workspace_id": subscriber.workspace_id}
        if subscriber.conversation_id is not None:
            base["conversation_id"] = subscriber.conversation_id
        position = after
        while True:
            query = {"$and": [base, _after_filter(position)]}
            cursor = self.core.store.events.find(query).sort([("created_at", 1), ("_id", 1)])
            docs = await cursor.limit(CATCH_UP_BATCH).to_list(CATCH_UP_BATCH)
            for doc in docs:
                event = Event.from_doc(doc)
                position = _key(event)
                yield event
            if len(docs) < CATCH_UP_BATCH:
                return

    async def subscribe(
        self, workspace_id: str, *, after: str | None = None, conversation_id: str | None = None
    ) -> AsyncIterator[Event]:
        """Events of the workspace (or one conversation): those after `after`, then live ones.

        Ends when the subscriber falls more than `QUEUE_LIMIT` events behind; it should
        subscribe again with the cursor of the last event it got.
        """
        start = parse_cursor(after) if after else None
        subscriber = _Subscriber(workspace_id, conversation_id)
        tail = await self._join(subscriber)
        try:
            delivered: OrderedDict[str, None] = OrderedDict()
            floor = start
            if start is not None:
                async for event in self._catch_up(subscriber, start):
                    delivered[event.id] = None
                    if len(delivered) > _SEEN_LIMIT:
                        delivered.popitem(last=False)
                    floor = _key(event)
                    yield event
            while not subscriber.overflowed:
                event = await subscriber.queue.get()
                if (
                    floor is not None
                    and _key(event) <= floor
                    and (event.id in delivered or start is None or _key(event) <= start)
                ):
                    continue
                yield event
            log.warning("event subscriber fell behind", extra={"workspace_id": workspace_id})
        finally:
            await self._leave(tail, subscriber)

    async def close(self) -> None:
        """Stop the tail and stop listening (the application's shutdown)."""
        with contextlib.suppress(ValueError):
            self.core.event_listeners.remove(self._on_event)
        tail, self.tail = self.tail, None
        if tail is not None:
            await tail.stop()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None


def feed_for(core: Core) -> EventFeed:
    """The Core's single feed, created on first use."""
    feed = core.__dict__.get("_event_feed")
    if feed is None:
        feed = core.__dict__["_event_feed"] = EventFeed(core)
    return feed


async def head_cursor(core: Core, workspace_id: str) -> str | None:
    """The cursor of the workspace's latest event: where a fresh page starts listening.

    A page reads its lists, then subscribes after this cursor, so nothing logged in
    between is lost.
    """
    doc = await core.store.events.find_one(
        {"workspace_id": workspace_id}, sort=[("created_at", -1), ("_id", -1)]
    )
    return event_cursor(Event.from_doc(doc)) if doc else None
