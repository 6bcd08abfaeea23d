"""The DocumentDB wire gateway, driven by the real pymongo clients (sync and async).

They pin down what the realdb test lane can rely on, including where DocumentDB's answers differ
from MongoDB's (those differences are asserted as they are, so a change shows up here).
"""

from __future__ import annotations

import asyncio
import datetime
import re
import socket
import struct
import threading

import bson
import pytest
from bson import Binary, Decimal128, ObjectId, Regex
from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, MongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    BulkWriteError,
    DuplicateKeyError,
    OperationFailure,
)
from pymongo.synchronous.database import Database
from pymongo.write_concern import WriteConcern

pytestmark = pytest.mark.realdb


# ---------------------------------------------------------------- handshake


def test_handshake_is_an_honest_standalone(gw_client: MongoClient) -> None:
    hello = gw_client.admin.command("hello")
    assert hello["isWritablePrimary"] is True
    assert "setName" not in hello  # a standalone: no change streams
    assert hello["maxWireVersion"] >= 8
    assert gw_client.admin.command("ping")["ok"] == 1.0
    assert gw_client.server_info()["version"].startswith("7.")


def test_legacy_op_query_handshake(gw_uri: str) -> None:
    """Drivers may open with a legacy OP_QUERY isMaster; the answer comes as OP_REPLY."""
    host, port = gw_uri.split("//", 1)[1].rstrip("/").split(":")
    query = bson.encode({"isMaster": 1})
    body = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
    header = struct.pack("<iiii", 16 + len(body), 42, 0, 2004)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(header + body)
        raw = b""
        while len(raw) < 4 or len(raw) < struct.unpack_from("<i", raw)[0]:
            raw += sock.recv(65536)
    _length, _rid, response_to, opcode = struct.unpack_from("<iiii", raw)
    assert (response_to, opcode) == (42, 1)
    assert struct.unpack_from("<i", raw, 32)[0] == 1  # numberReturned
    reply = bson.decode(raw[36:])
    assert reply["ismaster"] is True
    assert reply["ok"] == 1.0


def test_unacknowledged_write_gets_no_reply(gw_uri: str, gw_db: Database) -> None:
    """w=0 writes are OP_MSG with moreToCome: the gateway must run them and stay silent."""
    with MongoClient(gw_uri, maxPoolSize=1) as client:
        coll = client[gw_db.name].get_collection("c", write_concern=WriteConcern(w=0))
        for i in range(5):
            coll.insert_one({"_id": i})
        # Same socket, requests served in order: the writes are done before this read.
        assert client[gw_db.name].c.count_documents({}) == 5


def test_unknown_command_is_command_not_found(gw_db: Database) -> None:
    with pytest.raises(OperationFailure) as err:
        gw_db.command("frobnicate")
    assert err.value.code == 59


# ---------------------------------------------------------------- CRUD


def test_sync_crud(gw_db: Database) -> None:
    coll = gw_db.people
    oid = coll.insert_one({"name": "ada", "age": 36}).inserted_id
    assert isinstance(oid, ObjectId)
    coll.insert_many([{"name": "bob", "age": 20}, {"name": "cy", "age": 50}])
    assert coll.find_one({"_id": oid}, {"_id": 0}) == {"name": "ada", "age": 36}
    assert [d["name"] for d in coll.find({"age": {"$gte": 30}}).sort("age", DESCENDING)] == [
        "cy",
        "ada",
    ]
    assert coll.update_many({"age": {"$lt": 40}}, {"$inc": {"age": 1}}).modified_count == 2
    assert coll.replace_one({"name": "bob"}, {"name": "bob", "age": 0}).matched_count == 1
    assert coll.find_one({"name": "bob"})["age"] == 0
    assert coll.delete_one({"name": "cy"}).deleted_count == 1
    assert coll.delete_many({}).deleted_count == 2
    assert coll.find_one() is None


async def test_async_crud(gw_adb: AsyncDatabase) -> None:
    coll = gw_adb.people
    await coll.insert_many([{"_id": i, "n": i} for i in range(10)])
    assert await coll.count_documents({"n": {"$gte": 5}}) == 5
    await coll.update_one({"_id": 3}, {"$set": {"tag": "x"}})
    assert (await coll.find_one({"tag": "x"}))["_id"] == 3
    cursor = coll.find({}, sort=[("_id", DESCENDING)], limit=3)
    assert [d["_id"] async for d in cursor] == [9, 8, 7]
    agg = await coll.aggregate([{"$group": {"_id": None, "total": {"$sum": "$n"}}}])
    assert [d["total"] async for d in agg] == [45]
    assert (await coll.delete_many({"n": {"$lt": 5}})).deleted_count == 5


def test_bson_types_round_trip_unchanged(gw_db: Database) -> None:
    """The gateway forwards raw BSON: no type is narrowed or converted on the way."""
    doc = {
        "_id": 1,
        "i64": Int64(7),
        "i32": 7,
        "dec": Decimal128("1.10"),
        "when": datetime.datetime(2024, 5, 6, 7, 8, 9, 123000),
        "oid": ObjectId("0123456789ab0123456789ab"),
        "bin": b"\x00\x01",  # subtype 0 decodes as bytes
        "uuid": Binary(b"\x11" * 16, 4),
        "re": Regex("^a.c$", "i"),
        "nested": {"list": [1, "two", {"three": 3.0}], "none": None},
    }
    gw_db.types.insert_one(doc)
    back = gw_db.types.find_one({"_id": 1})
    assert back == doc
    assert type(back["i64"]) is Int64
    assert type(back["i32"]) is int
    assert gw_db.types.find_one({"i64": {"$type": "long"}}) is not None


# ---------------------------------------------------------------- cursors


def test_cursor_over_many_batches(gw_db: Database) -> None:
    gw_db.many.insert_many([{"_id": i} for i in range(1000)])
    ids = [d["_id"] for d in gw_db.many.find({}, batch_size=7).sort("_id", ASCENDING)]
    assert ids == list(range(1000))


@pytest.mark.parametrize("key", ["_id", "v"])
def test_get_more_on_another_connection(gw_uri: str, gw_db: Database, key: str) -> None:
    # Sorting on "v" makes DocumentDB keep the cursor in its PostgreSQL session, so the
    # gateway must pin that connection; sorting on "_id" resumes from a continuation token.
    gw_db.many.insert_many([{"_id": i, "v": -i if key == "_id" else i} for i in range(1000)])
    first = gw_db.command("find", "many", sort={key: 1}, batchSize=7)
    cursor_id = first["cursor"]["id"]
    ids = [d["_id"] for d in first["cursor"]["firstBatch"]]
    # A second client has its own sockets: the cursor must be usable from any of them.
    with MongoClient(gw_uri) as other:
        while cursor_id:
            reply = other[gw_db.name].command("getMore", cursor_id, collection="many", batchSize=7)
            cursor_id = reply["cursor"]["id"]
            ids.extend(d["_id"] for d in reply["cursor"]["nextBatch"])
    assert ids == list(range(1000))


def test_interleaved_cursors_from_threads(gw_db: Database) -> None:
    gw_db.many.insert_many([{"_id": i} for i in range(300)])
    results: dict[int, list[int]] = {}

    def read(worker: int) -> None:
        results[worker] = [d["_id"] for d in gw_db.many.find({}, batch_size=5).sort("_id", 1)]

    threads = [threading.Thread(target=read, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(ids == list(range(300)) for ids in results.values())


def test_many_open_cursors_do_not_starve_the_gateway(gw_db: Database) -> None:
    gw_db.many.insert_many([{"_id": i, "v": i % 7} for i in range(100)])
    ids = [
        gw_db.command("find", "many", sort={"v": 1}, batchSize=2)["cursor"]["id"] for _ in range(40)
    ]
    assert all(ids)
    assert gw_db.many.count_documents({}) == 100  # still served while 40 cursors are open
    assert len(gw_db.command("killCursors", "many", cursors=ids)["cursorsKilled"]) == 40


def test_killed_cursor_is_gone(gw_db: Database) -> None:
    gw_db.many.insert_many([{"_id": i} for i in range(50)])
    first = gw_db.command("find", "many", batchSize=2)
    cursor_id = first["cursor"]["id"]
    killed = gw_db.command("killCursors", "many", cursors=[cursor_id])
    assert killed["cursorsKilled"] == [cursor_id]
    with pytest.raises(OperationFailure) as err:
        gw_db.command("getMore", cursor_id, collection="many")
    assert err.value.code == 43  # CursorNotFound


async def test_async_cursor_over_many_batches(gw_adb: AsyncDatabase) -> None:
    await gw_adb.many.insert_many([{"_id": i} for i in range(500)])
    cursor = gw_adb.many.find({}, batch_size=7).sort("_id", 1)
    assert [d["_id"] for d in await cursor.to_list()] == list(range(500))


# ---------------------------------------------------------------- duplicate keys


def test_duplicate_key_from_insert_one(gw_db: Database) -> None:
    gw_db.c.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError) as err:
        gw_db.c.insert_one({"_id": 1})
    assert err.value.code == 11000
    # DocumentDB's message, not MongoDB's "E11000 duplicate key error ..."; and no keyValue.
    assert "_id_" in err.value.details["errmsg"]


def test_duplicate_key_from_ordered_insert_many(gw_db: Database) -> None:
    with pytest.raises(BulkWriteError) as err:
        gw_db.c.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 1}, {"_id": 3}])
    details = err.value.details
    assert details["nInserted"] == 2
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(2, 11000)]
    assert sorted(d["_id"] for d in gw_db.c.find()) == [1, 2]


def test_duplicate_key_from_unordered_insert_many(gw_db: Database) -> None:
    with pytest.raises(BulkWriteError) as err:
        gw_db.c.insert_many([{"_id": 1}, {"_id": 1}, {"_id": 2}, {"_id": 2}], ordered=False)
    details = err.value.details
    assert details["nInserted"] == 2
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(1, 11000), (3, 11000)]


async def test_async_duplicate_key(gw_adb: AsyncDatabase) -> None:
    await gw_adb.c.insert_one({"_id": "x"})
    with pytest.raises(DuplicateKeyError):
        await gw_adb.c.insert_one({"_id": "x"})


# ---------------------------------------------------------------- updates


def test_update_one_with_upsert(gw_db: Database) -> None:
    first = gw_db.c.update_one({"email": "a@x"}, {"$set": {"n": 1}}, upsert=True)
    assert first.matched_count == 0
    assert first.upserted_id is not None
    second = gw_db.c.update_one({"email": "a@x"}, {"$inc": {"n": 1}}, upsert=True)
    assert (second.matched_count, second.modified_count, second.upserted_id) == (1, 1, None)
    assert gw_db.c.find_one({"email": "a@x"}, {"_id": 0}) == {"email": "a@x", "n": 2}


def test_find_one_and_update(gw_db: Database) -> None:
    gw_db.c.insert_many([{"_id": i, "group": "g", "n": i} for i in range(5)])
    after = gw_db.c.find_one_and_update(
        {"group": "g"},
        {"$inc": {"n": 100}},
        sort=[("n", DESCENDING)],
        return_document=ReturnDocument.AFTER,
    )
    assert after == {"_id": 4, "group": "g", "n": 104}
    before = gw_db.c.find_one_and_update({"_id": 0}, {"$set": {"n": -1}})
    assert before["n"] == 0
    created = gw_db.c.find_one_and_update(
        {"_id": 99}, {"$set": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert created == {"_id": 99, "n": 1}
    assert gw_db.c.find_one_and_update({"_id": 123}, {"$set": {"n": 1}}, upsert=True) is None


def test_find_one_and_update_duplicate_key(gw_db: Database) -> None:
    gw_db.c.create_index("k", unique=True)
    gw_db.c.insert_many([{"_id": 1, "k": 1}, {"_id": 2, "k": 2}])
    with pytest.raises(DuplicateKeyError):
        gw_db.c.find_one_and_update({"_id": 2}, {"$set": {"k": 1}})


# ---------------------------------------------------------------- indexes


def test_unique_index_enforced_right_after_create_index(gw_db: Database) -> None:
    assert gw_db.users.create_index("email", unique=True) == "email_1"
    gw_db.users.insert_one({"email": "a@x"})
    with pytest.raises(DuplicateKeyError):
        gw_db.users.insert_one({"email": "a@x"})


def test_unique_index_over_duplicates_fails(gw_db: Database) -> None:
    gw_db.users.insert_many([{"email": "a@x"}, {"email": "a@x"}])
    with pytest.raises(OperationFailure) as err:
        gw_db.users.create_index("email", unique=True)
    assert err.value.code == 11000


def test_list_and_drop_indexes(gw_db: Database) -> None:
    gw_db.c.create_index([("a", ASCENDING), ("b", DESCENDING)], name="ab")
    gw_db.c.create_index("t", expireAfterSeconds=60)
    indexes = {ix["name"]: ix for ix in gw_db.c.list_indexes()}
    assert set(indexes) == {"_id_", "ab", "t_1"}
    assert dict(indexes["ab"]["key"]) == {"a": 1, "b": -1}
    assert indexes["t_1"]["expireAfterSeconds"] == 60
    gw_db.c.drop_index("ab")
    assert {ix["name"] for ix in gw_db.c.list_indexes()} == {"_id_", "t_1"}
    with pytest.raises(OperationFailure) as err:
        gw_db.c.drop_index("nope")
    assert err.value.code == 27  # IndexNotFound


# ---------------------------------------------------------------- reads and aggregation


def test_aggregate_match_group_sort_lookup(gw_db: Database) -> None:
    gw_db.customers.insert_many([{"_id": "c1", "name": "Ada"}, {"_id": "c2", "name": "Bob"}])
    gw_db.orders.insert_many(
        [
            {"customer": "c1", "total": 10, "state": "paid"},
            {"customer": "c1", "total": 5, "state": "paid"},
            {"customer": "c2", "total": 7, "state": "paid"},
            {"customer": "c2", "total": 100, "state": "void"},
        ]
    )
    rows = list(
        gw_db.orders.aggregate(
            [
                {"$match": {"state": "paid"}},
                {"$group": {"_id": "$customer", "spent": {"$sum": "$total"}}},
                {"$sort": {"spent": -1}},
                {
                    "$lookup": {
                        "from": "customers",
                        "localField": "_id",
                        "foreignField": "_id",
                        "as": "customer",
                    }
                },
                {"$project": {"_id": 0, "spent": 1, "name": {"$first": "$customer.name"}}},
            ]
        )
    )
    assert rows == [{"spent": 15, "name": "Ada"}, {"spent": 7, "name": "Bob"}]


def test_count_documents_and_distinct(gw_db: Database) -> None:
    gw_db.c.insert_many([{"tag": t, "n": i} for i, t in enumerate("abcabca")])
    assert gw_db.c.count_documents({}) == 7
    assert gw_db.c.count_documents({"tag": "a"}) == 3
    assert gw_db.c.count_documents({"tag": "a"}, skip=1, limit=1) == 1
    assert gw_db.c.estimated_document_count() == 7
    assert sorted(gw_db.c.distinct("tag")) == ["a", "b", "c"]
    assert sorted(gw_db.c.distinct("tag", {"n": {"$gt": 4}})) == ["a", "c"]


def test_query_errors_map_to_mongodb_codes(gw_db: Database) -> None:
    gw_db.c.insert_one({"a": 1})
    with pytest.raises(OperationFailure) as err:
        list(gw_db.c.find({"$bogus": 1}))
    assert err.value.code == 2  # BadValue
    with pytest.raises(OperationFailure) as err:
        list(gw_db.c.aggregate([{"$bogus": {}}]))
    assert err.value.code == 40324  # unrecognized pipeline stage
    with pytest.raises(OperationFailure) as err:
        gw_db.c.update_one({"a": 1}, {"$set": {"_id": 5}})
    assert err.value.code == 66  # ImmutableField


def test_collections_lifecycle(gw_db: Database) -> None:
    gw_db.create_collection("a")
    gw_db.b.insert_one({})
    assert sorted(gw_db.list_collection_names()) == ["a", "b"]
    gw_db.b.rename("c")
    assert sorted(gw_db.list_collection_names()) == ["a", "c"]
    gw_db.drop_collection("a")
    gw_db.drop_collection("never-existed")  # MongoDB 7: not an error
    assert gw_db.list_collection_names() == ["c"]
    assert gw_db.name in gw_db.client.list_database_names()


# ---------------------------------------------------------------- transactions


def test_transaction_commit_is_visible(gw_client: MongoClient, gw_db: Database) -> None:
    gw_db.c.insert_one({"_id": 0})  # collections exist before the transaction
    with gw_client.start_session() as session, session.start_transaction():
        gw_db.c.insert_one({"_id": 1}, session=session)
        gw_db.c.update_one({"_id": 0}, {"$set": {"x": 1}}, session=session)
    assert gw_db.c.count_documents({}) == 2
    assert gw_db.c.find_one({"_id": 0})["x"] == 1


def test_transaction_abort_is_invisible(gw_client: MongoClient, gw_db: Database) -> None:
    gw_db.c.insert_one({"_id": 0})
    with gw_client.start_session() as session:
        session.start_transaction()
        gw_db.c.insert_one({"_id": 1}, session=session)
        gw_db.c.delete_one({"_id": 0}, session=session)
        session.abort_transaction()
    assert [d["_id"] for d in gw_db.c.find()] == [0]


def test_transaction_isolation(gw_client: MongoClient, gw_db: Database) -> None:
    gw_db.c.insert_one({"_id": 0})
    with gw_client.start_session() as session:
        session.start_transaction()
        gw_db.c.insert_one({"_id": 1}, session=session)
        assert gw_db.c.count_documents({}, session=session) == 2
        assert gw_db.c.count_documents({}) == 1  # uncommitted: invisible outside
        with gw_client.start_session() as other:
            assert gw_db.c.find_one({"_id": 1}, session=other) is None
        session.commit_transaction()
    assert gw_db.c.count_documents({}) == 2


def test_transaction_write_conflict_is_transient(gw_client: MongoClient, gw_db: Database) -> None:
    gw_db.c.insert_one({"_id": 1, "n": 0})
    with gw_client.start_session() as s1, gw_client.start_session() as s2:
        s1.start_transaction()
        s2.start_transaction()
        gw_db.c.update_one({"_id": 1}, {"$inc": {"n": 1}}, session=s1)
        with pytest.raises(OperationFailure) as err:
            gw_db.c.update_one({"_id": 1}, {"$inc": {"n": 1}}, session=s2)
        assert err.value.code == 112
        assert err.value.has_error_label("TransientTransactionError")
        s1.commit_transaction()
        s2.abort_transaction()
    assert gw_db.c.find_one({"_id": 1})["n"] == 1


def test_with_transaction_helper(gw_client: MongoClient, gw_db: Database) -> None:
    gw_db.accounts.insert_many([{"_id": "a", "bal": 10}, {"_id": "b", "bal": 0}])

    def move(session) -> None:  # type: ignore[no-untyped-def]
        gw_db.accounts.update_one({"_id": "a"}, {"$inc": {"bal": -4}}, session=session)
        gw_db.accounts.update_one({"_id": "b"}, {"$inc": {"bal": 4}}, session=session)

    with gw_client.start_session() as session:
        session.with_transaction(move)
    assert {d["_id"]: d["bal"] for d in gw_db.accounts.find()} == {"a": 6, "b": 4}


def test_duplicate_key_aborts_the_transaction(gw_client: MongoClient, gw_db: Database) -> None:
    gw_db.c.insert_one({"_id": 1})
    with gw_client.start_session() as session:
        session.start_transaction()
        gw_db.c.insert_one({"_id": 2}, session=session)
        with pytest.raises(DuplicateKeyError):
            gw_db.c.insert_one({"_id": 1}, session=session)
        with pytest.raises(OperationFailure) as err:
            session.commit_transaction()
        assert err.value.code == 251  # NoSuchTransaction: MongoDB aborts on a failed write
    assert gw_db.c.count_documents({}) == 1


async def test_async_transaction(gw_aclient: AsyncMongoClient, gw_adb: AsyncDatabase) -> None:
    await gw_adb.c.insert_one({"_id": 0})
    async with gw_aclient.start_session() as session:
        await session.start_transaction()
        await gw_adb.c.insert_one({"_id": 1}, session=session)
        assert await gw_adb.c.count_documents({}) == 1
        await session.commit_transaction()
        await session.start_transaction()
        await gw_adb.c.insert_one({"_id": 2}, session=session)
        await session.abort_transaction()
    assert sorted(await gw_adb.c.distinct("_id")) == [0, 1]


# ---------------------------------------------------------------- concurrency


async def test_200_concurrent_async_inserts(gw_adb: AsyncDatabase) -> None:
    coll = gw_adb.events
    results = await asyncio.gather(*(coll.insert_one({"i": i}) for i in range(200)))
    assert len({r.inserted_id for r in results}) == 200
    assert await coll.count_documents({}) == 200
    assert sorted(await coll.distinct("i")) == list(range(200))


async def test_concurrent_readers_and_writers(gw_adb: AsyncDatabase) -> None:
    coll = gw_adb.mixed
    await coll.insert_many([{"_id": i, "n": 0} for i in range(20)])

    async def bump(i: int) -> None:
        await coll.update_one({"_id": i % 20}, {"$inc": {"n": 1}})

    async def read() -> int:
        return len(await coll.find({}, batch_size=3).to_list())

    outcomes = await asyncio.gather(*(bump(i) for i in range(100)), *(read() for _ in range(20)))
    assert all(n == 20 for n in outcomes if n is not None)
    total = await coll.aggregate([{"$group": {"_id": None, "n": {"$sum": "$n"}}}])
    assert [d["n"] async for d in total] == [100]


def test_regex_and_sort_on_strings(gw_db: Database) -> None:
    gw_db.c.insert_many([{"s": s} for s in ["b", "B", "a", "A", "é"]])
    matched = sorted(d["s"] for d in gw_db.c.find({"s": re.compile("^a", re.IGNORECASE)}))
    assert matched == ["A", "a"]
    # Binary (code point) order, as MongoDB sorts strings without a collation.
    assert [d["s"] for d in gw_db.c.find().sort("s", 1)] == ["A", "B", "a", "b", "é"]


# ---------------------------------------------------------------- known DocumentDB gaps
# Pinned so that a DocumentDB upgrade that closes a gap is noticed; Kith must not use these.


def test_collation_is_not_supported(gw_db: Database) -> None:
    gw_db.c.insert_one({"s": "a"})
    with pytest.raises(OperationFailure) as err:
        list(gw_db.c.find({"s": "A"}, collation={"locale": "en", "strength": 2}))
    assert err.value.code == 115  # MongoDB would match "a"


def test_change_streams_are_not_supported(gw_db: Database) -> None:
    gw_db.c.insert_one({})
    with pytest.raises(OperationFailure):
        gw_db.c.watch()
