"""Counters that racing requests raise at once, each told its own value on every engine.

The usual counter, `find_one_and_update` with `$inc` and `upsert=True`, answers two racers
on a new counter the same value on DocumentDB: the racer whose insert loses is retried as an
update (the stored count is right) but answered the document its insert would have made,
so two of them read 1 (seen on the real-engine lane: six parallel guesses at a password
checked where five may be; two first tickets of a workspace could both be number 1).
MongoDB retries such upserts on the server (SERVER-47212) and answers right. So here a
counter is only ever updated when it exists, and its first value inserted: an insert that
loses the race fails on the unique `_id`, and its caller updates the document the winner
made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.core.collection import Document, RetryingCollection

ATTEMPTS = 3  # a counter deleted between a lost insert and the update is made again


async def increment(
    collection: RetryingCollection,
    doc_id: str,
    field: str,
    *,
    by: int = 1,
    also_set: Mapping[str, Any] | None = None,
    on_insert: Mapping[str, Any] | None = None,
) -> Document:
    """Raise `field` of `doc_id` by `by` (setting `also_set`; `on_insert` only when new) and
    return the document as this call left it. Field names are top-level."""
    sets = dict(also_set or {})
    update: dict[str, Any] = {"$inc": {field: by}}
    if sets:
        update["$set"] = sets
    for _ in range(ATTEMPTS):
        doc = await collection.find_one_and_update(
            {"_id": doc_id}, update, return_document=ReturnDocument.AFTER
        )
        if doc is not None:
            return doc
        first = {**(on_insert or {}), **sets, "_id": doc_id, field: by}
        try:
            await collection.insert_one(dict(first))
        except DuplicateKeyError:
            continue
        return first
    raise RuntimeError(f"the counter {collection.name}/{doc_id} could not be raised")
