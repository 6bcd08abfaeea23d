"""The embedded engine's shortcuts for TTL indexes and unique indexes (see kith.core.embedded).

mongomock tested every document's expiry on every access to a collection with a TTL index,
and the unique check after each write went through every document: after a 60,000-contact
import each `find_one` and each insert of the demo took tens of milliseconds. Expiry now runs
every few seconds, as a server's TTL monitor does, and the unique check reads only the
documents that may clash; its answers are checked here against mongomock's own."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.embedded import EXPIRY_INTERVAL, EmbeddedClient


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_expired_documents_go_once_the_ttl_monitor_comes_round() -> None:
    ticks = Ticks()
    kept = EmbeddedClient(monotonic=ticks)["ttl"]["kept"]
    await kept.create_index([("purge_at", ASCENDING)], expireAfterSeconds=0)
    wall = datetime.now(UTC)
    await kept.insert_one({"_id": "live", "purge_at": wall + timedelta(days=1)})
    assert await kept.count_documents({}) == 1  # the monitor's round: nothing due

    await kept.insert_one({"_id": "due", "purge_at": wall - timedelta(minutes=1)})
    assert await kept.find_one({"_id": "due"}) is not None  # lingers until the next round
    ticks.now += EXPIRY_INTERVAL - 0.5
    assert await kept.count_documents({}) == 2
    ticks.now += 1
    assert await kept.find_one({"_id": "due"}) is None
    assert [d["_id"] for d in await kept.find({}).to_list(None)] == ["live"]


async def test_unique_values_are_freed_and_held_as_the_documents_change(core: Core) -> None:
    """A deleted or changed document frees its value; one whose clashing update was refused
    keeps holding its own; a sparse index lets documents without the fields share them."""
    things = core.store.db["unique_lookups"]
    await things.create_index([("code", ASCENDING)], unique=True)
    await things.create_index([("a", ASCENDING), ("b", ASCENDING)], unique=True, sparse=True)
    await things.insert_many([{"_id": n, "code": f"c{n}"} for n in range(5)])

    with pytest.raises(DuplicateKeyError):
        await things.insert_one({"_id": 9, "code": "c1"})
    await things.delete_one({"_id": 1})
    await things.insert_one({"_id": 9, "code": "c1"})  # freed by the delete
    await things.update_one({"_id": 2}, {"$set": {"code": "c2-new"}})
    await things.insert_one({"_id": 10, "code": "c2"})  # freed by the update
    with pytest.raises(DuplicateKeyError):
        await things.update_one({"_id": 3}, {"$set": {"code": "c4"}})
    with pytest.raises(DuplicateKeyError):
        await things.insert_one({"_id": 11, "code": "c3"})  # still held by the refused one
    with pytest.raises(DuplicateKeyError):
        await things.insert_one({"_id": 12, "code": "c2-new"})

    await things.update_one({"_id": 0}, {"$set": {"a": 1, "b": "x"}})
    with pytest.raises(DuplicateKeyError):
        await things.update_one({"_id": 4}, {"$set": {"a": 1, "b": "x"}})
    await things.update_one({"_id": 4}, {"$set": {"a": 1, "b": "y"}})
    await things.replace_one({"_id": 0}, {"code": "c0"})  # frees (1, "x")
    await things.update_one({"_id": 3}, {"$set": {"a": 1, "b": "x"}})
    assert await things.count_documents({"a": 1}) == 2


SCALARS: list[Any] = ["k1", "k2", 1, 1.0, True, None]
# Only `code` is given arrays and sub-documents (mongomock's own check fails on an array under
# a sparse index).
VALUES: dict[str, list[Any]] = {
    "code": [*SCALARS, ["k1", "k3"], ["k2"], {"k": 1}, []],
    "a": SCALARS,
    "b": SCALARS,
    "kind": ["p", "q"],
}


def random_doc(rng: random.Random, doc_id: int) -> dict[str, Any]:
    """A document with a few of the indexed fields, each holding any kind of value."""
    doc: dict[str, Any] = {"_id": doc_id}
    for field in ("code", "a", "b", "kind"):
        if rng.random() < 0.7:
            doc[field] = rng.choice(VALUES[field])
    return doc


async def test_unique_checks_answer_as_mongomocks_through_random_writes() -> None:
    """1,500 random inserts, updates, replacements and deletes on 30 ids under four unique
    indexes (plain, compound and sparse, partial, and one on a field that may hold arrays,
    numbers of several types, sub-documents): each write is refused or not as mongomock's
    own check decides, and the documents stay the same."""
    things = EmbeddedClient()["uniques"]["things"]
    model = mongomock.MongoClient(tz_aware=True).db.things
    indexes: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
        ([("code", 1)], {}),
        ([("a", 1), ("b", 1)], {"sparse": True}),
        ([("b", 1)], {"partialFilterExpression": {"kind": "p"}}),
    ]
    for keys, options in indexes:
        await things.create_index(keys, unique=True, **options)
        model.create_index(keys, unique=True, **options)
    rng = random.Random(20261206)  # noqa: S311 - reproducible test data, not a secret
    refused = 0
    for _ in range(1500):
        doc_id, roll = rng.randrange(30), rng.random()
        if roll < 0.4:
            method, args = "insert_one", (random_doc(rng, doc_id),)
        elif roll < 0.7:
            field = rng.choice(["code", "a", "b", "kind"])
            value = rng.choice(VALUES[field])
            change = {"$set": {field: value}} if rng.random() < 0.8 else {"$unset": {field: ""}}
            method, args = rng.choice(["update_one", "update_many"]), ({"_id": doc_id}, change)
        elif roll < 0.85:
            replacement = {k: v for k, v in random_doc(rng, doc_id).items() if k != "_id"}
            method, args = "replace_one", ({"_id": doc_id}, replacement)
        else:
            method, args = "delete_one", ({"_id": doc_id},)
        outcomes = []
        for run in (getattr(things, method), getattr(model, method)):
            try:
                result = run(*copy.deepcopy(args))
                if hasattr(result, "__await__"):
                    await result
                outcomes.append(None)
            except DuplicateKeyError:
                outcomes.append("duplicate")
        assert outcomes[0] == outcomes[1], (method, args)
        refused += outcomes[0] is not None
        assert await things.find({}).sort("_id").to_list(None) == list(model.find().sort("_id"))
    assert 100 < refused < 1000
