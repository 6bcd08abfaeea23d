"""Sorted and cut reads answer as MongoDB does on every lane, and on the embedded engine they
copy out only the documents they return: its cursor used to copy (and sort, comparing every
pair with mongomock's `bson_compare`) every match first, so that each consumer's claim of 32
events, and the lag report's `find_one`, cost a pass over the whole backlog, and a 60,000-row
contacts import stalled `kith demo` for minutes (see kith.core.embedded)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest
from prometheus_client import REGISTRY

from kith.core.consumers import Consumer, ConsumerWorker, lag
from kith.core.context import Core
from kith.core.events import build_event, record_many
from kith.core.models import Event

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many documents mongomock copies out of its store (the embedded engine's reads)."""
    counted = [0]
    original = mongomock.collection.Collection._copy_only_fields

    def copy_only_fields(self: Any, doc: Any, fields: Any, container: Any) -> Any:
        counted[0] += 1
        return original(self, doc, fields, container)

    monkeypatch.setattr(mongomock.collection.Collection, "_copy_only_fields", copy_only_fields)
    yield counted


async def test_sorted_reads_keep_order_ties_types_skip_and_limit(core: Core) -> None:
    things = core.store.db["sorted_things"]
    docs: list[dict[str, Any]] = [
        {"_id": "e", "at": T0, "v": "b", "pending": ["x", "y"]},
        {"_id": "a", "at": T0 + timedelta(seconds=2), "v": 3, "pending": ["x"]},
        {"_id": "d", "at": T0, "v": None, "pending": "x"},
        {"_id": "b", "at": T0 + timedelta(seconds=1), "v": 2.5, "pending": ["y"]},
        {"_id": "c", "at": T0 + timedelta(seconds=1), "v": True, "pending": ["x"]},
        {"_id": "f", "at": T0 - timedelta(seconds=1), "v": T0, "pending": []},
        {"_id": "g", "at": T0 + timedelta(seconds=3), "pending": ["x"]},
    ]
    await things.insert_many(docs)
    by_time = [("at", 1), ("_id", 1)]

    async def ids(query: dict[str, Any], sort: list[tuple[str, int]], **cut: int) -> list[str]:
        cursor = things.find(query, {"_id": 1}).sort(sort)
        if "skip" in cut:
            cursor = cursor.skip(cut["skip"])
        if "limit" in cut:
            cursor = cursor.limit(cut["limit"])
        return [doc["_id"] for doc in await cursor.to_list(None)]

    assert await ids({}, by_time) == ["f", "d", "e", "b", "c", "a", "g"]
    assert await ids({"pending": "x"}, by_time, limit=3) == ["d", "e", "c"]
    assert await ids({"pending": "x"}, by_time, skip=1, limit=2) == ["e", "c"]
    assert await ids({"pending": {"$in": ["y"]}}, [("at", -1), ("_id", 1)]) == ["b", "e"]
    assert await ids({"pending": "x"}, [("at", -1), ("_id", -1)], limit=2) == ["g", "a"]
    # BSON's order across types: null and missing, numbers, strings, booleans, dates.
    assert await ids({}, [("v", 1), ("_id", 1)]) == ["d", "g", "b", "a", "e", "c", "f"]
    assert await ids({}, [("v", -1), ("_id", 1)], limit=3) == ["f", "c", "e"]
    assert await ids({"pending": "x", "v": {"$ne": None}}, [("v", 1)], limit=2) == ["a", "e"]

    first = await things.find_one({"pending": "x"}, {"at": 1}, sort=by_time)
    assert first == {"_id": "d", "at": T0}
    assert first["at"].tzinfo is not None
    last = await things.find_one({"pending": "y"}, sort=[("at", -1)])
    assert last is not None and last["_id"] == "b" and last["pending"] == ["y"]
    assert await things.find_one({"pending": "z"}, sort=by_time) is None
    assert (await things.find_one({"_id": "a"}, {"v": 1})) == {"_id": "a", "v": 3}


async def test_a_cursor_read_is_not_changed_by_writes_made_while_it_is_read(core: Core) -> None:
    things = core.store.db["read_then_written"]
    await things.insert_many([{"_id": f"t{i}", "n": i, "tag": "old"} for i in range(6)])

    seen = []
    async for doc in things.find({"tag": "old"}).sort([("n", 1)]).limit(4):
        seen.append((doc["_id"], doc["tag"]))
        await things.update_many({}, {"$set": {"tag": "new"}})
        await things.insert_one({"_id": f"late{len(seen)}", "n": -1, "tag": "old"})

    assert seen == [("t0", "old"), ("t1", "old"), ("t2", "old"), ("t3", "old")]


async def test_a_claim_and_the_lag_report_read_only_what_they_take(
    core: Core, workspace_id: str, copies: list[int]
) -> None:
    """2,000 events pending for one consumer: a claim of 32 hands it the 32 oldest, and the
    embedded engine copies out only those (twice: the ids, then the claimed events), not the
    backlog; the lag report's oldest pending event is one copy per consumer."""
    handled: list[str] = []

    async def handle(core: Core, event: Event) -> None:
        handled.append(event.id)

    consumer = Consumer("counted-test", ("test.counted",), handle)
    core.consumers.add(consumer)
    events = [
        build_event(core, workspace_id, "test.counted", event_id=f"ev{n:05d}") for n in range(2000)
    ]
    await record_many(core, events)
    worker = ConsumerWorker(core, batch_size=32)

    copies[0] = 0
    assert await worker.run_consumer(consumer) == 32
    assert handled == [f"ev{n:05d}" for n in range(32)]
    if core.store.embedded:
        assert copies[0] <= 2 * 32

    copies[0] = 0
    report = {entry.consumer: entry for entry in await lag(core, workspace_id)}
    assert report["counted-test"].pending == 2000 - 32
    assert report["counted-test"].oldest_pending_at == events[32].created_at
    if core.store.embedded:
        assert copies[0] <= len(report)


@pytest.mark.parametrize("metrics_token", [None, "scrape-me-0123456789"])
async def test_the_lag_is_counted_only_where_metrics_are_served(
    core: Core, workspace_id: str, metrics_token: str | None
) -> None:
    """The worker's lag report counts every consumer's pending events (a pass over the event
    log per consumer on the embedded engine) only for /metrics, which answers 404 without a
    token: there the report is not made."""
    core.settings.metrics_token = metrics_token
    name = f"lag-test-{metrics_token is not None}-{uuid.uuid4().hex[:6]}"
    stop = asyncio.Event()

    async def handle(core: Core, event: Event) -> None:
        stop.set()

    core.consumers.add(Consumer(name, ("test.lagging",), handle))
    await record_many(core, [build_event(core, workspace_id, "test.lagging", event_id="lag-1")])
    await ConsumerWorker(core, idle_seconds=0.01).run_forever(stop)

    published = REGISTRY.get_sample_value("kith_consumer_lag_events", {"consumer": name})
    assert (published is not None) == (metrics_token is not None)
