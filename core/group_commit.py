"""Group commit: requests that callers make at the same moment share one round trip.

On the real engine a round trip costs far more than the documents it carries (an `insert` of
twenty documents costs about what two single inserts do), so the ingest pipeline's steps go
through a `Grouped` collection: each call queues its request, and whatever was queued while
the previous batch on that collection was in flight goes out as one `bulk_write` (or one
`find`). Nothing waits on a timer: an idle process writes at once, a busy one in batches as
large as its concurrency. Every caller gets its own outcome: a request's write error is
raised to its caller alone, and a caller returns only once its own write is acknowledged.

Two writes that claim the same unique key (say a webhook delivered twice at once) never share
a batch: the later one waits for the next. DocumentDB on PostgreSQL checks unique indexes as
exclusion constraints, and an insert that conflicts with a tuple of an uncommitted
transaction waits for it; two such inserts wait for each other until PostgreSQL's deadlock
detector (1 s) aborts one. In one unordered command the aborted document is only the first of
its copies: the command goes on to the next copy, which deadlocks again, so a batch holding a
key k times stalls for up to k seconds per racing client; retried on the WriteConflict the
aborted copies are reported as, racing clients kept it up for minutes. One copy per command
is answered at once (a committed duplicate) or after one deadlock at worst.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Generic, TypeVar

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteError

from kith.core.collection import (
    CONFLICT_ATTEMPTS,
    WRITE_CONFLICT,
    Document,
    Filter,
    RetryingCollection,
    WriteRequest,
    retried_on_conflict,
)

Item = TypeVar("Item")
Result = TypeVar("Result")
BATCH_LIMIT = 500
# Batches a store lets out at once (its `Grouped` collections share the limit). Without it
# each step of ingest keeps its own batch in flight and concurrent callers spread over the
# steps in small batches; with it they queue and share fuller ones. 4 measured best (1 to 6
# tried, bench/ingest.py on the real engine).
GROUPED_IN_FLIGHT = 4


class GroupCommit(Generic[Item, Result]):
    """Runs `run(items)` over whatever callers queued while the previous run was in flight
    (and, with a `gate`, while it waited for its turn among other groups' batches).

    `run` answers one outcome per item, in order: a result or the exception for that caller.
    If `run` itself raises, every caller of that batch gets the error. Items that share one
    of their `keys` go in separate batches, in the order they were queued.
    """

    def __init__(
        self,
        run: Callable[[list[Item]], Awaitable[list[Result | Exception]]],
        limit: int = BATCH_LIMIT,
        gate: asyncio.Semaphore | None = None,
        keys: Callable[[Item], Iterable[Hashable]] = lambda _: (),
    ) -> None:
        self._run = run
        self._limit = limit
        self._gate = gate
        self._keys = keys
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._queue:
                if self._gate is None:
                    await self._next()
                else:
                    async with self._gate:
                        await self._next()
        finally:
            self._flushing = None

    async def _next(self) -> None:
        batch = self._take()
        if batch:
            await self._settle(batch)

    def _take(self) -> list[tuple[Item, asyncio.Future[Result]]]:
        """The next batch off the queue: at most `limit` items, no two sharing a key. An item
        left for later holds its keys too, so same-key items keep their order."""
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        later: list[tuple[Item, asyncio.Future[Result]]] = []
        taken: set[Hashable] = set()
        for item, future in self._queue:
            if future.done():  # its caller was cancelled meanwhile
                continue
            keys = set(self._keys(item))
            if len(batch) < self._limit and taken.isdisjoint(keys):
                batch.append((item, future))
            else:
                later.append((item, future))
            taken |= keys
        self._queue = later
        return batch

    async def _settle(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await self._run([item for item, _ in batch])
        except Exception as error:
            outcomes = [error] * len(batch)
        except BaseException:  # cancelled with the loop: so are its callers
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its caller was cancelled meanwhile
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


def _write_error(error: Mapping[str, Any]) -> WriteError:
    """The exception a single write would have raised for this entry of a bulk answer."""
    code = error.get("code")
    cls = DuplicateKeyError if code == 11000 else WriteError
    return cls(str(error.get("errmsg", "write error")), code, dict(error))


def _conflict(outcome: object) -> bool:
    return isinstance(outcome, OperationFailure) and outcome.code == WRITE_CONFLICT


def _plain(filter: Filter) -> bool:
    """An equality on top-level fields with plain values: matchable in Python as on the server."""
    return all(
        not key.startswith("$") and "." not in key and not isinstance(value, dict | list)
        for key, value in filter.items()
    )


def _combined(filters: list[Filter]) -> Filter:
    """One query for several equality filters: `$in` on the one field where they differ if
    there is one (e.g. ids, or identities of one channel), else `$or`."""
    if len(filters) == 1:
        return filters[0]
    first = filters[0]
    if all(f.keys() == first.keys() for f in filters):
        varying = [k for k in first if any(f[k] != first[k] for f in filters)]
        if not varying:
            return first
        if len(varying) == 1:
            [key] = varying
            return {**first, key: {"$in": list(dict.fromkeys(f[key] for f in filters))}}
    return {"$or": filters}


def _matches(doc: Document, filter: Filter) -> bool:
    return all(key in doc and doc[key] == value for key, value in filter.items())


def unique_keys(
    request: WriteRequest, unique: Sequence[tuple[str, ...]]
) -> Iterable[tuple[Hashable, ...]]:
    """The values `request` claims for each unique index of `unique` (field names), as far
    as the document it inserts or the equality filter of its update or upsert tells them."""
    fields: Any = request  # PyMongo's request objects keep their arguments privately
    values: dict[str, Any] = {}
    if isinstance(request, InsertOne):
        values = dict(fields._doc)
    elif isinstance(request, UpdateOne | ReplaceOne):
        values = {k: v for k, v in fields._filter.items() if not isinstance(v, dict)}
    for index in unique:
        if all(name in values for name in index):
            claimed = (index, *(values[name] for name in index))
            try:
                hash(claimed)
            except TypeError:  # a list or document value: the engine compares it, not us
                continue
            yield claimed


class Grouped:
    """A collection's single-document writes and equality lookups, grouped across callers.

    Writes go out unordered: a batch may hold requests of unrelated callers, and one caller's
    failure must not stop the others. Requests claiming one value of a secondary unique
    index (`unique`, field names) go in separate batches (see the module's docstring; `_id`
    is PostgreSQL's primary key, a b-tree whose waits cannot deadlock this way). A request
    the engine refused with WriteConflict (it was not applied) goes again, in a smaller batch;
    a whole batch refused with WriteConflict was rolled back and goes again whole.
    """

    def __init__(
        self,
        collection: RetryingCollection,
        gate: asyncio.Semaphore | None = None,
        unique: Sequence[tuple[str, ...]] = (),
    ) -> None:
        self.collection = collection
        self._writes: GroupCommit[WriteRequest, Any] = GroupCommit(
            self._write_batch, gate=gate, keys=lambda request: unique_keys(request, unique)
        )
        self._reads: GroupCommit[Filter, Document | None] = GroupCommit(self._read_batch, gate=gate)

    async def write(self, request: WriteRequest) -> Any:
        """Apply `request` (one document) with others'; the upserted `_id` if it inserted one.

        Raises the request's own error (`DuplicateKeyError` for a duplicate key), as
        `insert_one` or `update_one` would.
        """
        return await self._writes(request)

    async def find_one(self, filter: Filter) -> Document | None:
        """The document equal to `filter` on every named field (plain values only), read
        together with other callers' lookups; at most one is expected to match."""
        if not _plain(filter):
            raise ValueError("grouped lookups take plain field equalities only")
        return await self._reads(filter)

    async def _read_batch(self, filters: list[Filter]) -> list[Document | Exception | None]:
        docs = await self.collection.find(_combined(filters)).to_list(None)
        return [next((d for d in docs if _matches(d, f)), None) for f in filters]

    async def _write_batch(self, requests: list[WriteRequest]) -> list[Any | Exception]:
        return await _conflicts_retried(self._bulk, requests)

    async def _bulk(self, requests: list[WriteRequest]) -> list[Any | Exception]:
        """One unordered `bulk_write`, answered per request: upserted `_id` (or None) or error."""
        details: Mapping[str, Any]
        try:
            result = await retried_on_conflict(
                lambda: self.collection.bulk_write(requests, ordered=False)
            )
            details = result.bulk_api_result
        except BulkWriteError as failed:
            details = failed.details
            if details.get("writeConcernErrors"):
                raise
        outcomes: list[Any | Exception] = [None] * len(requests)
        for upserted in details.get("upserted", []):
            outcomes[upserted["index"]] = upserted["_id"]
        for error in details.get("writeErrors", []):
            outcomes[error["index"]] = _write_error(error)
        return outcomes


class GroupedInserts:
    """Inserts of documents that may exist already (members of a set, keyed by `_id`),
    grouped across callers: a batch is one unordered bulk write of inserts, and a document already
    stored is simply not inserted again.

    A batch's documents go in `_id` order. On DocumentDB an insert that meets the same key
    uncommitted in another command waits for it; two commands taking shared keys in opposite
    orders would wait for each other until the deadlock detector (1 s) aborts one. In one
    order, a wait always ends with the other command.
    """

    def __init__(self, collection: RetryingCollection, gate: asyncio.Semaphore | None) -> None:
        self.collection = collection
        self._inserts: GroupCommit[list[Document], None] = GroupCommit(self._insert, gate=gate)

    async def add(self, docs: list[Document]) -> None:
        """Store `docs` (those not stored yet), with other callers'."""
        if docs:
            await self._inserts(docs)

    async def _insert(self, items: list[list[Document]]) -> list[Exception | None]:
        docs = sorted({d["_id"]: d for item in items for d in item}.values(), key=_by_id)
        for outcome in await _conflicts_retried(self._insert_new, docs):
            if outcome is not None:
                raise outcome
        return [None] * len(items)

    async def _insert_new(self, docs: list[Document]) -> list[Exception | None]:
        """One unordered insert of `docs`, answered per document: None (stored, now or
        before) or its error."""
        requests = [InsertOne(doc) for doc in docs]
        try:
            await retried_on_conflict(lambda: self.collection.bulk_write(requests, ordered=False))
        except BulkWriteError as failed:
            if failed.details.get("writeConcernErrors"):
                raise
            outcomes: list[Exception | None] = [None] * len(docs)
            for error in failed.details.get("writeErrors", []):
                if error.get("code") != 11000:
                    outcomes[error["index"]] = _write_error(error)
            return outcomes
        return [None] * len(docs)


async def _conflicts_retried(
    write: Callable[[list[Item]], Awaitable[list[Result]]], items: list[Item]
) -> list[Result]:
    """`write(items)`'s outcomes, after writing again (with jitter, up to `CONFLICT_ATTEMPTS`
    in all) the items it refused with WriteConflict: those were not applied."""
    outcomes = await write(items)
    for attempt in range(1, CONFLICT_ATTEMPTS):
        again = [n for n, outcome in enumerate(outcomes) if _conflict(outcome)]
        if not again:
            break
        await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 (jitter)
        retried = await write([items[n] for n in again])
        for n, outcome in zip(again, retried, strict=True):
            outcomes[n] = outcome
    return outcomes


_by_id = itemgetter("_id")
