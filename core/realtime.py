"""The real-time event feed: every event of a workspace, in order, to browsers and widgets.

Events reach a subscriber two ways, merged and de-duplicated here:
- from this process, at once, through `core.event_listeners` (the in-process bus);
- from other `kith serve` processes, by tailing the `events` collection: one read per
  workspace with subscribers. On a replica set or sharded cluster a change stream on
  `events` wakes that read as soon as any process logs an event; elsewhere (the embedded
  engine, DocumentDB) it runs every `poll_seconds`. The change stream only says "look now":
  the tailing read stays the one source of order and catch-up, whichever woke it.

There is no global sequence: events are ordered by (`created_at`, `_id`). An event can be
committed a moment after a later-stamped one (another process, a slow write), so each poll
re-reads a short look-back window and skips the ids it has already passed on. Processes
whose clocks disagree by more than that window can miss each other's events.

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
from typing import Any

from pymongo.errors import OperationFailure, PyMongoError

from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.models import Event

log = logging.getLogger(__name__)

LOOKBACK = timedelta(seconds=5)
CATCH_UP_BATCH = 500
QUEUE_LIMIT = 10_000
_SEEN_LIMIT = 4096
CHANGE_STREAM_HISTORY_LOST = 286
_Key = tuple[datetime, str]


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def event_cursor(event: Event) -> str:
    """An opaque cursor of one event; cursors of events compare as the events are ordered."""
    return f"{_millis(event.created_at):015d}_{event.id}"


def parse_cursor(cursor: str) -> _Key:
    """The (created_at, _id) key behind a cursor; `InvalidInput` when it is not one of ours."""
    millis, sep, event_id = cursor.partition("_")
    if not sep or not millis.isdigit() or len(millis) != 15 or not event_id or len(event_id) > 128:
        raise InvalidInput("malformed event cursor", field="cursor")
    return datetime.fromtimestamp(int(millis) / 1000, tz=UTC), event_id


def _key(event: Event) -> _Key:
    created = event.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created, event.id


def _after_filter(key: _Key) -> dict[str, Any]:
    moment, event_id = key
    return {
        "$or": [{"created_at": {"$gt": moment}}, {"created_at": moment, "_id": {"$gt": event_id}}]
    }


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
    """One workspace's merged stream: local pushes plus a poll of the event log."""

    def __init__(self, feed: EventFeed, workspace_id: str) -> None:
        self.feed = feed
        self.workspace_id = workspace_id
        self.subscribers: set[_Subscriber] = set()
        self.position: datetime | None = None
        self.seen: dict[str, datetime] = {}
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[None] | None = None
        self.wakeup = asyncio.Event()  # set by the change stream: another process logged

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"event-tail:{self.workspace_id}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def deliver(self, event: Event) -> None:
        """Pass `event` on once, whichever way it arrived first."""
        if event.id in self.seen:
            return
        moment = _key(event)[0]
        self.seen[event.id] = moment
        if self.position is None or moment > self.position:
            self.position = moment
        for subscriber in list(self.subscribers):
            subscriber.offer(event)

    def _prune(self) -> None:
        if self.position is None:
            return
        horizon = self.position - LOOKBACK
        for event_id in [i for i, moment in self.seen.items() if moment < horizon]:
            del self.seen[event_id]

    async def _start_position(self) -> datetime:
        latest = await self.feed.core.store.events.find_one(
            {"workspace_id": self.workspace_id}, {"created_at": 1}, sort=[("created_at", -1)]
        )
        if latest is not None:
            return _key(
                Event.model_validate(
                    {**latest, "workspace_id": "", "type": "", "actor": {"kind": "system"}}
                )
            )[0]
        return self.feed.core.clock.now()

    async def poll(self) -> None:
        if self.position is None:
            self.position = await self._start_position()
        query = {
            "workspace_id": self.workspace_id,
            "created_at": {"$gte": self.position - LOOKBACK},
        }
        cursor = self.feed.core.store.events.find(query).sort([("created_at", 1), ("_id", 1)])
        for doc in await cursor.to_list(None):
            if doc["_id"] not in self.seen:
                self.deliver(Event.from_doc(doc))
        self._prune()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), self.feed.poll_seconds)
            self.wakeup.clear()
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event tail poll failed", extra={"workspace_id": self.workspace_id})


class EventFeed:
    """The process's fan-out of workspace events to any number of subscribers."""

    def __init__(self, core: Core, poll_seconds: float = 1.0) -> None:
        self.core = core
        self.poll_seconds = poll_seconds
        self.pushed = False  # a change stream is open: tails wake on every insert
        self._tails: dict[str, _Tail] = {}
        self._watcher: asyncio.Task[None] | None = None
        core.event_listeners.append(self._on_event)

    def _start_watching(self) -> None:
        if self._watcher is None:  # an engine without change streams refuses at once
            self._watcher = asyncio.create_task(self._watch(), name="event-change-stream")

    async def _watch(self) -> None:
        """Wake the workspace's tail on each insert into `events`, resuming after a dropped
        connection; a server without change streams is left to the polling."""
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
                        tail = self._tails.get(change["fullDocument"]["workspace_id"])
                        if tail is not None:
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
            await asyncio.sleep(self.poll_seconds)

    def _on_event(self, event: Event) -> None:
        """Called synchronously by `kith.core.events.record`: only hands the event on."""
        tail = self._tails.get(event.workspace_id)
        if tail is not None:
            tail.deliver(event)

    async def _join(self, subscriber: _Subscriber) -> _Tail:
        """Attach to the workspace's tail; a new tail first marks the recent past as seen."""
        tail = self._tails.get(subscriber.workspace_id)
        if tail is None:
            tail = self._tails[subscriber.workspace_id] = _Tail(self, subscriber.workspace_id)
            try:
                await tail.poll()
            except BaseException as exc:
                del self._tails[subscriber.workspace_id]
                tail.ready.set_exception(exc)
                tail.ready.exception()  # retrieved: waiting joiners get it raised
                raise
            tail.ready.set_result(None)
            tail.start()
            self._start_watching()
        else:
            await asyncio.shield(tail.ready)
        tail.subscribers.add(subscriber)
        return tail

    async def _leave(self, tail: _Tail, subscriber: _Subscriber) -> None:
        tail.subscribers.discard(subscriber)
        if not tail.subscribers and self._tails.get(tail.workspace_id) is tail:
            del self._tails[tail.workspace_id]
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
        """Stop every tail and stop listening (the application's shutdown)."""
        with contextlib.suppress(ValueError):
            self.core.event_listeners.remove(self._on_event)
        tails, self._tails = list(self._tails.values()), {}
        for tail in tails:
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
