"""A query that a declared `(field, sort key)` index answers — a consumer's claim: what is
pending for it, oldest first — answers as MongoDB does on every lane, through any mix of
writes; on the embedded engine it reads only what it returns. Its ordered views (see
kith.core.embedded) are kept while mongomock writes in place, so each answer here is checked
against mongomock's own after every write."""

from __future__ import annotations

import collections
import random
import weakref
from collections.abc import Iterator
from typing import Any

import mongomock
import pytest
from pymongo.errors import DuplicateKeyError

from kith.core.consumers import Consumer, ConsumerWorker
from kith.core.context import Core
from kith.core.events import build_event, record_many
from kith.core.models import Event

NAMES = ("a", "b", "c")
BY_TIME = [("at", 1), ("_id", 1)]
ODD_FROM, ODD_UNTIL = 300, 340


class CountingDocuments(collections.OrderedDict[Any, Any]):
    """mongomock's store of a collection's documents, counting the documents each pass over
    it goes through (by key, by value or by item, either way)."""

    visited = 0

    def _count(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            CountingDocuments.visited += 1
            yield item

    def __iter__(self) -> Iterator[Any]:
        return self._count(super().__iter__())

    def __reversed__(self) -> Iterator[Any]:
        return self._count(super().__reversed__())

    def values(self) -> Any:
        return self._count(iter(super().values()))

    def items(self) -> Any:
        return self._count(iter(super().items()))


class CountingReads(CountingDocuments):
    """…and each document read by its key (an ordered view's walk)."""

    def __getitem__(self, key: Any) -> Any:
        CountingDocuments.visited += 1
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        CountingDocuments.visited += 1
        return super().get(key, default)


def pending_value(rng: random.Random, odd: bool) -> Any:
    """What a document holds at `pending`: a list of names, one name, nothing, or (while
    `odd`) a name beside a number, which the embedded engine's ordered view leaves to
    mongomock."""
    roll = rng.random()
    if roll < 0.6:
        return rng.sample(NAMES, rng.randint(0, 3))
    if roll < 0.8:
        return rng.choice(NAMES)
    return [rng.choice(NAMES), 7] if odd else None


def new_doc(rng: random.Random, n: int, doc_id: str) -> dict[str, Any]:
    odd = ODD_FROM <= n < ODD_UNTIL
    doc: dict[str, Any] = {"_id": doc_id, "at": rng.randint(0, 5), "code": f"k{n}"}
    value = pending_value(rng, odd)
    if value is not None:
        doc["pending"] = value
    if rng.random() < 0.1:
        doc["at"] = rng.choice(["late", None, 2.5])  # other BSON types sort among the numbers
    elif odd and rng.random() < 0.2:
        doc["at"] = {"day": 1}  # a sub-document: also left to mongomock
    return doc


async def test_ordered_reads_match_mongomock_through_inserts_updates_and_deletes(
    core: Core,
) -> None:
    """800 random writes on 40 ids, a third of them followed by the claim's reads (so that
    several writes, such as a delete and an insert of the same id, come between two reads);
    ties on `at` keep the collection's order on the embedded engine (a server orders them as
    it likes). For a while some documents hold a number at `pending`, then they go."""
    things = core.store.db["ordered_things"]
    model = mongomock.MongoClient(tz_aware=True).db.ordered_things
    await things.create_index([("pending", 1), ("at", 1)])
    await things.create_index("code", unique=True)
    model.create_index([("pending", 1), ("at", 1)])
    model.create_index("code", unique=True)
    rng = random.Random(20261206)  # noqa: S311 - reproducible test data, not a secret
    ids = [f"t{i:02d}" for i in range(40)]

    async def both(method: str, *args: Any, **kwargs: Any) -> None:
        failures = []
        for run in (getattr(things, method), getattr(model, method)):
            try:
                result = run(*args, **kwargs)
                if method != "find":
                    await result if hasattr(result, "__await__") else None
            except DuplicateKeyError:
                failures.append(True)
            else:
                failures.append(False)
        assert failures[0] == failures[1], (method, args)

    async def check() -> None:
        for name in NAMES:
            for query in ({"pending": name}, {"pending": name, "flag": True}):
                cursor = things.find(query, {"_id": 1}).sort(BY_TIME).limit(5)
                expected = [d["_id"] for d in model.find(query, {"_id": 1}).sort(BY_TIME).limit(5)]
                assert [d["_id"] for d in await cursor.to_list(None)] == expected, query
            if core.store.embedded:  # ties in the collection's order, as mongomock leaves them
                cursor = things.find({"pending": name}).sort([("at", 1)])
                expected = [d["_id"] for d in model.find({"pending": name}).sort([("at", 1)])]
                assert [d["_id"] for d in await cursor.to_list(None)] == expected
        named = rng.sample(ids, 4)
        found = [d["_id"] for d in await things.find({"_id": {"$in": named}}).to_list(None)]
        expected = [d["_id"] for d in model.find({"_id": {"$in": named}})]
        assert found == expected if core.store.embedded else sorted(found) == sorted(expected)

    for n in range(800):
        doc_id, name, roll = rng.choice(ids), rng.choice(NAMES), rng.random()
        if roll < 0.25:
            if model.find_one({"_id": doc_id}) is None:
                await both("insert_one", new_doc(rng, n, doc_id))
        elif roll < 0.5:  # (on a list: a server refuses either on a string)
            current = model.find_one({"_id": doc_id}) or {}
            if isinstance(current.get("pending", []), list):
                change = "$pull" if roll < 0.4 else "$addToSet"
                await both("update_one", {"_id": doc_id}, {change: {"pending": name}})
        elif roll < 0.6:
            await both("update_one", {"_id": doc_id}, {"$set": {"at": rng.randint(0, 5)}})
        elif roll < 0.65:
            await both("update_many", {"pending": name}, {"$set": {"flag": rng.random() < 0.5}})
        elif roll < 0.75:
            await both("delete_one", {"_id": doc_id})
        elif roll < 0.8:
            await both("replace_one", {"_id": doc_id}, new_doc(rng, n, doc_id))
        elif roll < 0.85:
            update = {"$set": {"at": rng.randint(0, 5), "code": f"u{n}", "pending": [name]}}
            await both("update_one", {"_id": doc_id}, update, upsert=True)
        elif roll < 0.9:  # a clash on the unique index: the update is rolled back
            other = model.find_one({"_id": {"$ne": doc_id}, "code": {"$exists": True}})
            if other is not None:
                clash = {"code": other["code"], "at": 9, "pending": [name]}
                await both("update_one", {"_id": doc_id}, {"$set": clash})
        elif roll < 0.95:
            await both("delete_many", {"pending": name, "at": {"$gte": 4}})
        else:
            await both("update_many", {}, {"$unset": {"flag": ""}})
        if n == ODD_UNTIL:
            await both("delete_many", {"$or": [{"pending": 7}, {"at": {"$type": "object"}}]})
        if rng.random() < 0.35:
            await check()


async def test_a_document_deleted_then_inserted_and_updated_between_reads_is_in_its_new_place(
    core: Core,
) -> None:
    things = core.store.db["moved_things"]
    await things.create_index([("pending", 1), ("at", 1)])
    await things.insert_many([{"_id": f"t{i}", "at": 1, "pending": ["a"]} for i in range(5)])
    assert len(await things.find({"pending": "a"}).sort(BY_TIME).to_list(None)) == 5

    await things.insert_one({"_id": "t9", "at": 0, "pending": ["a"]})
    await things.delete_one({"_id": "t1"})
    await things.insert_one({"_id": "t1", "at": 0, "pending": ["a"]})
    await things.update_one({"_id": "t1"}, {"$set": {"seen": True}})

    found = await things.find({"pending": "a"}, {"_id": 1}).sort(BY_TIME).to_list(None)
    assert [d["_id"] for d in found] == ["t1", "t9", "t0", "t2", "t3", "t4"]
    if core.store.embedded:  # ties in the collection's order: t1 came back after t9
        found = await things.find({"pending": "a"}, {"_id": 1}).sort([("at", 1)]).to_list(None)
        assert [d["_id"] for d in found] == ["t9", "t1", "t0", "t2", "t3", "t4"]


async def test_a_dropped_collection_takes_its_documents_with_it(core: Core) -> None:
    """Dropping a collection (as every test's database is dropped) lets its documents go at
    once, though a sorted read made an ordered view of them and none comes after: the view
    held them, and with them the suite's process kept whole databases of finished tests."""
    things = core.store.db["dropped_things"]
    await things.create_index([("pending", 1), ("at", 1)])
    await things.insert_many([{"_id": f"t{i}", "at": i, "pending": ["a"]} for i in range(50)])
    assert len(await things.find({"pending": "a"}).sort(BY_TIME).limit(5).to_list(None)) == 5
    raw: Any = things
    documents = weakref.ref(raw._coll._store._documents) if core.store.embedded else None

    await things.drop()

    if documents is not None:
        assert documents() is None
    assert await things.find({"pending": "a"}).sort(BY_TIME).to_list(None) == []


async def test_a_claim_deep_in_a_backlog_reads_only_what_it_takes(
    core: Core, workspace_id: str
) -> None:
    """3,000 events pending for one consumer behind 1,000 handled ones: after the first claim,
    each claim of 32 hands out the next 32 in log order and, on the embedded engine, goes
    through a few dozen documents of the log, not the backlog (it used to test and sort every
    pending event, three passes over the log per claim)."""
    handled: list[str] = []

    async def handle(core: Core, event: Event) -> None:
        handled.append(event.id)

    consumer = Consumer("deep-test", ("test.deep",), handle)
    core.consumers.add(consumer)
    events = [
        build_event(core, workspace_id, "test.deep", event_id=f"ev{n:05d}") for n in range(4000)
    ]
    for start in range(0, len(events), 500):
        await record_many(core, events[start : start + 500])
    if core.store.embedded:
        store: Any = core.store.events.raw._coll._store  # type: ignore[attr-defined]
        store._documents = CountingDocuments(store._documents)
    worker = ConsumerWorker(core, batch_size=32)
    for _ in range(1000 // 32 + 1):
        await worker.run_consumer(consumer)

    for _ in range(3):
        CountingDocuments.visited = 0
        done = len(handled)
        assert await worker.run_consumer(consumer) == 32
        assert handled[done:] == [f"ev{n:05d}" for n in range(done, done + 32)]
        if core.store.embedded:
            assert CountingDocuments.visited <= 4 * 32
    assert handled == [f"ev{n:05d}" for n in range(len(handled))]


async def test_of_two_indexes_that_answer_a_query_the_one_with_fewer_entries_is_read(
    core: Core,
) -> None:
    """A webhook claim while one endpoint is full: `{endpoint_id: e, status: "pending"}` by
    due time, answered by `(status, due)` and by `(endpoint_id, status, due)`; on the
    embedded engine the second reads the one endpoint's few entries, not the other's 3,000
    pending ahead of them, and the answers stay right as they change."""
    things = core.store.db["two_indexes"]
    await things.create_index([("status", 1), ("due", 1)])
    await things.create_index([("endpoint_id", 1), ("status", 1), ("due", 1)])
    if core.store.embedded:
        store: Any = things._coll._store  # type: ignore[attr-defined]
        store._documents = CountingReads(store._documents)
    backlog = [
        {"_id": f"s{n:04d}", "endpoint_id": "slow", "status": "pending", "due": n}
        for n in range(3000)
    ]
    await things.insert_many(backlog)
    await things.insert_many(
        [
            {"_id": f"o{n}", "endpoint_id": "other", "status": "pending", "due": 5000 + n}
            for n in range(3)
        ]
    )
    query = {"status": "pending", "endpoint_id": "other"}
    by_due = [("due", 1), ("_id", 1)]
    assert [d["_id"] for d in await things.find(query).sort(by_due).to_list(2)] == ["o0", "o1"]
    await things.update_one({"_id": "o0"}, {"$set": {"status": "succeeded"}})
    await things.insert_one({"_id": "o9", "endpoint_id": "other", "status": "pending", "due": 1})
    CountingDocuments.visited = 0
    found = await things.find(query).sort(by_due).limit(2).to_list(2)
    assert [d["_id"] for d in found] == ["o9", "o1"]
    if core.store.embedded:
        assert CountingDocuments.visited <= 20


@pytest.fixture(autouse=True)
def _counting_reset() -> Iterator[None]:
    CountingDocuments.visited = 0
    yield
