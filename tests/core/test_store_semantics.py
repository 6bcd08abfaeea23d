"""What Kith relies on from the database, on every lane: lookups by `_id` and unique indexes
answer as MongoDB does (the embedded engine takes shortcuts for both, see kith.core.embedded),
and write conflicts that an engine hands back are retried as mongod would."""

from __future__ import annotations

import re

import pytest
from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from kith.core.collection import CONFLICT_ATTEMPTS, WRITE_CONFLICT
from kith.core.context import Core
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound
from tests.support.faults import conflicting, failing


async def test_a_query_naming_ids_still_applies_its_other_conditions(core: Core) -> None:
    things = core.store.db["things"]
    await things.insert_many([{"_id": f"t{i}", "n": i} for i in range(5)])

    assert await things.find_one({"_id": "t3", "n": 3}) == {"_id": "t3", "n": 3}
    assert await things.find_one({"_id": "t3", "n": 4}) is None
    assert await things.find_one({"_id": "missing"}) is None
    picked = things.find({"_id": {"$in": ["t4", "t1", "nope", "t2"]}, "n": {"$gte": 2}})
    assert sorted(d["_id"] for d in await picked.to_list(None)) == ["t2", "t4"]
    assert await things.count_documents({"_id": {"$in": []}}) == 0
    updated = await things.update_one({"_id": "t1", "n": 9}, {"$set": {"n": 10}})
    assert updated.matched_count == 0
    updated = await things.update_one({"_id": "t1", "n": 1}, {"$set": {"n": 10}})
    assert updated.modified_count == 1 and (await things.find_one({"_id": "t1"}))["n"] == 10


async def test_string_conditions_match_as_on_a_server(core: Core) -> None:
    """The embedded engine tests string conditions with set lookups before its general
    matcher: strings in arrays, under dotted paths and in `$or` branches still match."""
    things = core.store.db["strung"]
    await things.insert_many(
        [
            {"_id": "a", "pending": ["bots", "nlp"], "claims": {"bots": {"token": "t1"}}},
            {"_id": "b", "pending": "bots", "tags": [{"name": "vip"}, {"name": "new"}]},
            {"_id": "c", "pending": ["nlp"], "n": 3, "tags": [{"name": "vip"}]},
            {"_id": "d", "pending": ["bots"], "n": 4, "claims": {"bots": {"token": 7}}},
        ]
    )

    async def ids(query: dict[str, object]) -> list[str]:
        return sorted(d["_id"] for d in await things.find(query).to_list(None))

    assert await ids({"pending": "bots"}) == ["a", "b", "d"]
    assert await ids({"pending": "bots", "n": {"$gte": 4}}) == ["d"]
    assert await ids({"claims.bots.token": "t1"}) == ["a"]
    assert await ids({"tags.name": "vip"}) == ["b", "c"]
    assert await ids({"tags.name": "vip", "pending": "nlp"}) == ["c"]
    assert await ids({"$or": [{"pending": "nlp"}, {"tags.name": "new"}]}) == ["a", "b", "c"]
    assert await ids({"pending": {"$in": ["nlp", "x"]}, "$or": [{"n": 3}, {"n": None}]}) == [
        "a",
        "c",
    ]
    assert await ids({"pending": "nobody"}) == []
    assert await things.count_documents({"pending": "bots"}) == 3


async def test_unique_indexes_refuse_clashes_made_by_updates(core: Core) -> None:
    things = core.store.db["unique_things"]
    await things.create_index(
        [("key", ASCENDING)],
        unique=True,
        partialFilterExpression={"key": {"$exists": True}},
    )
    await things.insert_many([{"_id": "a", "key": "k1"}, {"_id": "b", "key": "k2"}])
    await things.insert_many([{"_id": "c"}, {"_id": "d"}])  # outside the partial index

    with pytest.raises(DuplicateKeyError):
        await things.update_one({"_id": "b"}, {"$set": {"key": "k1"}})
    assert (await things.find_one({"_id": "b"}))["key"] == "k2"  # nothing half-written
    with pytest.raises(DuplicateKeyError):
        await things.insert_one({"_id": "e", "key": "k2"})

    await things.update_one({"_id": "c"}, {"$set": {"other": 1}})
    await things.update_one({"_id": "a"}, {"$set": {"key": "k3"}})
    await things.update_one({"_id": "b"}, {"$set": {"key": "k1"}})  # k1 is free now
    assert await things.count_documents({"key": {"$exists": True}}) == 2


async def test_an_update_of_a_partial_filters_field_can_clash_too(core: Core) -> None:
    """Only the index's filter field changes, yet the document enters the index and clashes
    (the embedded engine skips the unique check for updates that cannot clash: this one can)."""
    people = core.store.db["unique_people"]
    await people.create_index(
        [("email", ASCENDING)], unique=True, partialFilterExpression={"active": True}
    )
    await people.insert_many(
        [
            {"_id": "a", "email": "x@example.com", "active": True},
            {"_id": "b", "email": "x@example.com", "active": False},
        ]
    )

    await people.update_one({"_id": "b"}, {"$set": {"note": "left alone"}})
    await people.update_many({}, {"$inc": {"visits": 1}})
    with pytest.raises(DuplicateKeyError):
        await people.update_one({"_id": "b"}, {"$set": {"active": True}})
    with pytest.raises(DuplicateKeyError):
        await people.find_one_and_update({"_id": "b"}, {"$set": {"active": True}})
    assert await people.count_documents({"active": True}) == 1
    assert await people.count_documents({"visits": 1}) == 2


@pytest.mark.parametrize("ordered", [True, False])
async def test_a_bulk_write_with_a_duplicate_key_fails_as_on_a_server(
    core: Core, ordered: bool
) -> None:
    """BulkWriteError naming the request, never a bare DuplicateKeyError; an ordered write
    stops there, an unordered one applies the rest."""
    things = core.store.db[f"bulk_things_{ordered}"]
    await things.insert_one({"_id": "a", "n": 0})
    requests = [
        InsertOne({"_id": "b", "n": 0}),
        InsertOne({"_id": "a", "n": 1}),
        UpdateOne({"_id": "a"}, {"$set": {"n": 2}}),
    ]
    with pytest.raises(BulkWriteError) as failed:
        await things.bulk_write(requests, ordered=ordered)

    errors = failed.value.details["writeErrors"]
    assert [(e["index"], e["code"]) for e in errors] == [(1, 11000)]
    assert failed.value.details["nInserted"] == 1
    assert (await things.find_one({"_id": "a"}))["n"] == (0 if ordered else 2)


async def test_an_id_given_as_a_regular_expression_matches_as_one(core: Core) -> None:
    things = core.store.db["regex_things"]
    await things.insert_many([{"_id": "timer:a"}, {"_id": "timer:b"}, {"_id": "other"}])
    found = things.find({"_id": re.compile("^timer:")})
    assert sorted(d["_id"] for d in await found.to_list(None)) == ["timer:a", "timer:b"]


async def test_a_write_conflict_the_engine_hands_back_is_run_again(
    core: Core, workspace_id: str
) -> None:
    """DocumentDB answers a PostgreSQL deadlock between concurrent first messages with
    WriteConflict, which mongod would have retried itself: Kith retries it the same way."""
    channel, _ = await api_channel(core, workspace_id)

    with conflicting(core.store.identities, "bulk_write", times=2):
        received = await ingest(core, channel, inbound(channel, "ada", "hello"))
    again = await ingest(core, channel, inbound(channel, "ada", "again"))

    assert received.new_customer and received.message.text == "hello"
    assert await core.store.identities.count_documents({"workspace_id": workspace_id}) == 1
    customer_id = received.message.customer_id
    assert again.message.customer_id == customer_id
    assert await core.store.messages.count_documents({"customer_id": customer_id}) == 2


async def test_a_write_that_keeps_conflicting_fails_and_other_failures_are_not_retried(
    core: Core,
) -> None:
    things = core.store.collection("things")
    with conflicting(things, "insert_one", times=CONFLICT_ATTEMPTS):
        with pytest.raises(OperationFailure) as refused:
            await things.insert_one({"_id": "x"})
    assert refused.value.code == WRITE_CONFLICT
    assert await things.count_documents({}) == 0

    with conflicting(things, "insert_one", times=CONFLICT_ATTEMPTS - 1):
        await things.insert_one({"_id": "x"})
    assert await things.count_documents({}) == 1

    with failing(things.raw, "update_one"), pytest.raises(ConnectionError):
        await things.update_one({"_id": "x"}, {"$set": {"n": 1}})
    assert await things.find_one({"_id": "x"}) == {"_id": "x"}
