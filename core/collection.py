"""What Kith asks of a collection, typed once for both engines.

`Collection` is the subset of PyMongo's `AsyncCollection[dict[str, Any]]` that Kith calls,
with the same call shapes and PyMongo's own result types; the embedded engine
(`kith.core.embedded`) offers the same subset, and mypy checks that both fit. Every
collection a `Store` hands out is a `RetryingCollection` over one of them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, Self, TypedDict, TypeVar, Unpack

from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.asynchronous.change_stream import AsyncCollectionChangeStream
from pymongo.errors import OperationFailure
from pymongo.results import (
    BulkWriteResult,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)

Document = dict[str, Any]
Filter = Mapping[str, Any]
# An update document, or an aggregation pipeline of updates.
Update = Mapping[str, Any] | Sequence[Mapping[str, Any]]
# `[("field", ASCENDING), …]`, as PyMongo takes for sorts and index keys.
Keys = Sequence[tuple[str, int]]
WriteRequest = (
    InsertOne[Document] | UpdateOne | UpdateMany | ReplaceOne[Document] | DeleteOne | DeleteMany
)

T = TypeVar("T")


class IndexOptions(TypedDict, total=False):
    """The index options Kith sets, named as the server takes them."""

    name: str
    unique: bool
    sparse: bool
    expireAfterSeconds: int
    partialFilterExpression: Mapping[str, Any]


class Results(Protocol):
    """What an aggregation answers: documents to iterate or gather."""

    def __aiter__(self) -> AsyncIterator[Document]: ...

    async def to_list(self, length: int | None = None) -> list[Document]: ...


class Cursor(Results, Protocol):
    """What `find` answers: results that can still be sorted and cut."""

    def sort(self, key_or_list: str | Keys, direction: int | None = None, /) -> Self: ...

    def skip(self, n: int, /) -> Self: ...

    def limit(self, n: int, /) -> Self: ...

    def batch_size(self, n: int, /) -> Self: ...

    async def close(self) -> None: ...


class Collection(Protocol):
    """The collection calls Kith makes, as PyMongo's `AsyncCollection` takes them."""

    @property
    def name(self) -> str: ...

    async def insert_one(self, document: Document, /) -> InsertOneResult: ...

    async def insert_many(
        self, documents: Iterable[Document], /, *, ordered: bool = True
    ) -> InsertManyResult: ...

    async def find_one(
        self,
        filter: Filter | None = None,
        projection: Mapping[str, Any] | None = None,
        /,
        *,
        sort: Keys | None = None,
    ) -> Document | None: ...

    def find(
        self,
        filter: Filter | None = None,
        projection: Mapping[str, Any] | None = None,
        /,
        *,
        sort: Keys | None = None,
        limit: int = 0,
        batch_size: int = 0,
        collation: Mapping[str, Any] | None = None,
    ) -> Cursor: ...

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], /) -> Results: ...

    async def count_documents(self, filter: Filter, /, *, skip: int = 0, limit: int = 0) -> int: ...

    async def estimated_document_count(self) -> int: ...

    async def distinct(self, key: str, filter: Filter | None = None, /) -> list[Any]: ...

    async def update_one(
        self, filter: Filter, update: Update, /, *, upsert: bool = False
    ) -> UpdateResult: ...

    async def update_many(
        self, filter: Filter, update: Update, /, *, upsert: bool = False
    ) -> UpdateResult: ...

    async def replace_one(
        self, filter: Filter, replacement: Document, /, *, upsert: bool = False
    ) -> UpdateResult: ...

    async def find_one_and_update(
        self,
        filter: Filter,
        update: Update,
        /,
        *,
        projection: Mapping[str, Any] | None = None,
        sort: Keys | None = None,
        upsert: bool = False,
        return_document: bool = False,
    ) -> Document | None: ...

    async def find_one_and_delete(
        self, filter: Filter, /, *, sort: Keys | None = None
    ) -> Document | None: ...

    async def delete_one(self, filter: Filter, /) -> DeleteResult: ...

    async def delete_many(self, filter: Filter, /) -> DeleteResult: ...

    async def bulk_write(
        self, requests: Sequence[WriteRequest], /, *, ordered: bool = True
    ) -> BulkWriteResult: ...

    async def create_index(self, keys: str | Keys, /, **options: Unpack[IndexOptions]) -> str: ...

    async def index_information(self) -> Mapping[str, Any]: ...

    async def drop(self) -> None: ...

    async def watch(
        self,
        pipeline: Sequence[Mapping[str, Any]] | None = None,
        /,
        *,
        resume_after: Mapping[str, Any] | None = None,
    ) -> AsyncCollectionChangeStream[Document]: ...


WRITE_CONFLICT = 112
CONFLICT_ATTEMPTS = 5


async def retried_on_conflict(write: Callable[[], Awaitable[T]]) -> T:
    """Run a write that touches one document, again on WriteConflict: the engine rolled the
    whole command back, so running it again is exactly what mongod itself does."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return await write()
        except OperationFailure as error:
            if error.code != WRITE_CONFLICT or attempt == CONFLICT_ATTEMPTS:
                raise
        # Jittered, growing pause, so the writers that collided do not collide again.
        await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 (jitter)
    raise AssertionError("unreachable: the last attempt returns or raises")


class RetryingCollection:
    """A collection whose single-document writes are retried on WriteConflict.

    mongod retries such conflicts inside the server; engines that speak its protocol
    (Amazon DocumentDB, DocumentDB on PostgreSQL, Cosmos DB) hand them to the client, for
    instance when concurrent first messages race for one identity. Everything else goes to
    the engine's collection (`raw`) untouched; its methods are looked up on each call.
    """

    def __init__(self, raw: Collection) -> None:
        self.raw = raw

    @property
    def name(self) -> str:
        return self.raw.name

    async def insert_one(self, document: Document, /) -> InsertOneResult:
        return await retried_on_conflict(lambda: self.raw.insert_one(document))

    async def insert_many(
        self, documents: Iterable[Document], /, *, ordered: bool = True
    ) -> InsertManyResult:
        return await self.raw.insert_many(documents, ordered=ordered)

    async def find_one(
        self,
        filter: Filter | None = None,
        projection: Mapping[str, Any] | None = None,
        /,
        *,
        sort: Keys | None = None,
    ) -> Document | None:
        return await self.raw.find_one(filter, projection, sort=sort)

    def find(
        self,
        filter: Filter | None = None,
        projection: Mapping[str, Any] | None = None,
        /,
        *,
        sort: Keys | None = None,
        limit: int = 0,
        batch_size: int = 0,
        collation: Mapping[str, Any] | None = None,
    ) -> Cursor:
        return self.raw.find(
            filter, projection, sort=sort, limit=limit, batch_size=batch_size, collation=collation
        )

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], /) -> Results:
        return await self.raw.aggregate(pipeline)

    async def count_documents(self, filter: Filter, /, *, skip: int = 0, limit: int = 0) -> int:
        # Only what was asked for: a server refuses `$limit: 0`.
        cut = {name: n for name, n in (("skip", skip), ("limit", limit)) if n}
        return await self.raw.count_documents(filter, **cut)

    async def estimated_document_count(self) -> int:
        return await self.raw.estimated_document_count()

    async def distinct(self, key: str, filter: Filter | None = None, /) -> list[Any]:
        return await self.raw.distinct(key, filter)

    async def update_one(
        self, filter: Filter, update: Update, /, *, upsert: bool = False
    ) -> UpdateResult:
        return await retried_on_conflict(lambda: self.raw.update_one(filter, update, upsert=upsert))

    async def update_many(
        self, filter: Filter, update: Update, /, *, upsert: bool = False
    ) -> UpdateResult:
        return await self.raw.update_many(filter, update, upsert=upsert)

    async def replace_one(
        self, filter: Filter, replacement: Document, /, *, upsert: bool = False
    ) -> UpdateResult:
        return await retried_on_conflict(
            lambda: self.raw.replace_one(filter, replacement, upsert=upsert)
        )

    async def find_one_and_update(
        self,
        filter: Filter,
        update: Update,
        /,
        *,
        projection: Mapping[str, Any] | None = None,
        sort: Keys | None = None,
        upsert: bool = False,
        return_document: bool = False,
    ) -> Document | None:
        return await retried_on_conflict(
            lambda: self.raw.find_one_and_update(
                filter,
                update,
                projection=projection,
                sort=sort,
                upsert=upsert,
                return_document=return_document,
            )
        )

    async def find_one_and_delete(
        self, filter: Filter, /, *, sort: Keys | None = None
    ) -> Document | None:
        return await retried_on_conflict(lambda: self.raw.find_one_and_delete(filter, sort=sort))

    async def delete_one(self, filter: Filter, /) -> DeleteResult:
        return await retried_on_conflict(lambda: self.raw.delete_one(filter))

    async def delete_many(self, filter: Filter, /) -> DeleteResult:
        return await self.raw.delete_many(filter)

    async def bulk_write(
        self, requests: Sequence[WriteRequest], /, *, ordered: bool = True
    ) -> BulkWriteResult:
        return await self.raw.bulk_write(requests, ordered=ordered)

    async def create_index(self, keys: str | Keys, /, **options: Unpack[IndexOptions]) -> str:
        return await self.raw.create_index(keys, **options)

    async def index_information(self) -> Mapping[str, Any]:
        return await self.raw.index_information()

    async def drop(self) -> None:
        await self.raw.drop()

    async def watch(
        self,
        pipeline: Sequence[Mapping[str, Any]] | None = None,
        /,
        *,
        resume_after: Mapping[str, Any] | None = None,
    ) -> AsyncCollectionChangeStream[Document]:
        return await self.raw.watch(pipeline, resume_after=resume_after)
