"""The embedded in-process engine: a thin asyncio facade over mongomock.

It exists so that `kith demo` and the fast test lane run with nothing installed. It offers
only the subset of PyMongo's asyncio API (`AsyncMongoClient`) that Kith uses, with the same
call shapes (`await coll.find_one(...)`, `await coll.aggregate(...)`, `async for`), so code
written against it runs unchanged on a real server. Calls complete synchronously in memory,
which also means they never interleave: tests that need real concurrency run on the real lane.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, Self, TypeVar, Unpack

import bson
import mongomock
from bson import ObjectId
from mongomock import filtering
from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.change_stream import AsyncCollectionChangeStream
from pymongo.cursor import Cursor as SyncCursor
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure
from pymongo.results import (
    BulkWriteResult,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)

from kith.core.collection import Document, Filter, IndexOptions, Keys, Update, WriteRequest

T = TypeVar("T")
# How often, at most, a collection's documents are tested for expiry (mongomock tests them all
# on every access). A server's TTL monitor runs every 60 s, so a short lag is faithful.
EXPIRY_INTERVAL = 5.0
# What mongod answers on a server that is not a replica set.
CHANGE_STREAMS_UNSUPPORTED = 40573
# mongomock's query matcher (untyped there): does the filter select the document?
filter_applies: Callable[[Mapping[str, Any], Document], bool] = filtering.filter_applies
# mongomock's value at a (dotted) path, its sort key for one, and its dates made aware (untyped).
resolve_key: Callable[[str, Document], Any] = filtering.resolve_key
resolve_sort_key: Callable[[str, Document], Any] = filtering.resolve_sort_key
made_aware: Callable[[Document], Document] = (
    mongomock.helpers.make_datetime_timezone_aware_in_document
)


class EmbeddedResults:
    """Async view of documents already at hand (an aggregation's)."""

    def __init__(self, docs: Iterator[Document]) -> None:
        self._docs = docs

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Document:
        try:
            return next(self._docs)
        except StopIteration:
            raise StopAsyncIteration from None

    async def to_list(self, length: int | None = None) -> list[Document]:
        out: list[Document] = []
        for doc in self._docs:
            out.append(doc)
            if length is not None and len(out) >= length:
                break
        return out

    async def close(self) -> None:
        return None


class EmbeddedCursor(EmbeddedResults):
    """Async view of a mongomock `find` cursor, which can still be sorted and cut.

    Its documents are read on first use, all at once as mongomock's cursor reads them (so
    that writes made while it is iterated do not change it), but only as many as its skip
    and limit keep: mongomock's own cursor copies every match first, which made each claim
    of a few events, and `find_one`, copy the whole backlog of an event log."""

    def __init__(self, cursor: SyncCursor[Document]) -> None:
        super().__init__(iter(()))
        self._cursor = cursor
        self._read = False

    def _begin(self) -> None:
        if not self._read:
            self._read = True
            self._docs = iter(_cursor_results(self._cursor))

    async def __anext__(self) -> Document:
        self._begin()
        return await super().__anext__()

    async def to_list(self, length: int | None = None) -> list[Document]:
        self._begin()
        return await super().to_list(length)

    def sort(self, key_or_list: str | Keys, direction: int | None = None, /) -> Self:
        self._cursor.sort(key_or_list, direction)
        return self

    def skip(self, n: int, /) -> Self:
        self._cursor.skip(n)
        return self

    def limit(self, n: int, /) -> Self:
        self._cursor.limit(n)
        return self

    def batch_size(self, n: int, /) -> Self:
        return self

    def hint(self, index: str | Keys, /) -> Self:
        """An in-memory engine has no planner to steer: the same answer without it."""
        return self


def _cursor_results(cursor: SyncCursor[Document]) -> list[Document]:
    """What mongomock's cursor yields (its filter, sort, projection, skip and limit; dates
    made time-zone aware), copying only the documents kept."""
    state: Any = cursor  # mongomock's own attributes, not in its (pymongo's) stub
    coll = state.collection
    skip, limit = state._skip, state._limit
    stop = skip + abs(limit) if limit else None
    dataset = coll._get_dataset(state._spec, state._sort, state._projection, dict)
    docs = list(itertools.islice(dataset, skip, stop))
    if coll.codec_options.tz_aware:
        docs = [made_aware(doc) for doc in docs]
    return docs


def _is_subquery(stage: Mapping[str, Any]) -> bool:
    lookup = stage.get("$lookup")
    if not isinstance(lookup, Mapping) or "pipeline" not in lookup:
        return False
    if "let" in lookup or "localField" in lookup:
        raise NotImplementedError("embedded engine: only uncorrelated sub-query $lookup")
    return True


def _subquery(
    coll: mongomock.Collection[Document], pipeline: Sequence[Mapping[str, Any]]
) -> list[Document]:
    """A sub-query of the shape Kith sends — `$match`, then `$sort` and `$limit`, then plain
    `$lookup`s by field — run as a find, because mongomock's aggregate copies the whole
    collection first, which made a conversation view scan every message."""
    stages = list(pipeline)
    match = stages.pop(0)["$match"] if stages and "$match" in stages[0] else {}
    cursor = coll.find(match)
    if stages and "$sort" in stages[0]:
        cursor = cursor.sort(list(stages.pop(0)["$sort"].items()))
    if stages and "$limit" in stages[0]:
        cursor = cursor.limit(stages.pop(0)["$limit"])
    docs = list(cursor)
    for stage in stages:
        spec = stage.get("$lookup")
        if not isinstance(spec, Mapping) or "localField" not in spec or "." in spec["localField"]:
            raise NotImplementedError(f"embedded engine: sub-query stage {stage!r}")
        foreign = coll.database[spec["from"]]
        for doc in docs:
            value = doc.get(spec["localField"])
            values = value if isinstance(value, list) else [value]
            doc[spec["as"]] = list(foreign.find({spec["foreignField"]: {"$in": values}}))
    return docs


_PLAIN_ID = (str, int, float, bytes, ObjectId)


def _ids_named(query: Any) -> list[Any] | None:
    """The `_id`s a query names outright (`{"_id": x, ...}` or `{"_id": {"$in": [...]}, ...}`),
    or None when it names none."""
    if not isinstance(query, Mapping) or "_id" not in query:
        return None
    wanted = query["_id"]
    if isinstance(wanted, Mapping):
        if set(wanted) != {"$in"} or not isinstance(wanted["$in"], list | tuple):
            return None
        values = list(wanted["$in"])
    else:
        values = [wanted]
    if not all(isinstance(v, _PLAIN_ID) or v is None for v in values):
        return None  # a regular expression, a sub-document…: the general engine decides
    return values


def _values_at(doc: Any, path: list[str]) -> Iterator[Any]:
    """The values a dotted path reaches, through arrays as MongoDB reads them."""
    if not path:
        if isinstance(doc, list):
            yield from doc
        yield doc
        return
    if isinstance(doc, list):
        if path[0].isdigit() and int(path[0]) < len(doc):  # a position: `emails.0`
            yield from _values_at(doc[int(path[0])], path[1:])
        for item in doc:
            yield from _values_at(item, path)
    elif isinstance(doc, Mapping) and path[0] in doc:
        yield from _values_at(doc[path[0]], path[1:])


def _string_conditions(clause: Mapping[str, Any]) -> list[tuple[list[str], set[str]]]:
    """A clause's `{path: "s"}` and `{path: {"$in": ["s", ...]}}` conditions, as (path, values)."""
    found = []
    for path, spec in clause.items():
        if str(path).startswith("$"):
            continue
        if isinstance(spec, str):
            found.append((str(path).split("."), {spec}))
        elif (
            isinstance(spec, Mapping)
            and set(spec) == {"$in"}
            and isinstance(spec["$in"], list)
            and all(isinstance(v, str) for v in spec["$in"])
        ):
            found.append((str(path).split("."), set(spec["$in"])))
    return found


def _strings_in(query: Any) -> Callable[[Document], bool] | None:
    """For a query with string conditions (`{path: "s"}`, `{path: {"$in": [strings]}}`) at its
    top level, or in every branch of its `$or`, a cheap test every match passes (set lookups
    where mongomock runs its general matcher); None for other queries. Candidates are still
    confirmed by `filter_applies`."""
    if not isinstance(query, Mapping):
        return None
    required = _string_conditions(query)
    if required:
        return partial(_meets_all, required)
    branches = query.get("$or")
    if not isinstance(branches, list) or not branches:
        return None
    wanted = [_string_conditions(b) if isinstance(b, Mapping) else [] for b in branches]
    if not all(wanted):
        return None
    return partial(_meets_any, [conditions[0] for conditions in wanted])


def _meets(doc: Document, path: list[str], values: set[str]) -> bool:
    return any(isinstance(v, str) and v in values for v in _values_at(doc, path))


def _meets_all(conditions: list[tuple[list[str], set[str]]], doc: Document) -> bool:
    return all(_meets(doc, path, values) for path, values in conditions)


def _meets_any(conditions: list[tuple[list[str], set[str]]], doc: Document) -> bool:
    return any(_meets(doc, path, values) for path, values in conditions)


def _plain_conditions(query: Any) -> list[tuple[str, set[str]]] | None:
    """The conditions of a query made only of top-level `{field: "s"}` and `{field: {"$in":
    [strings]}}` (no dotted path, no other operator), as (field, values); else None."""
    if not isinstance(query, Mapping) or not query:
        return None
    found = _string_conditions(query)
    if len(found) != len(query) or any(len(path) != 1 for path, _ in found):
        return None
    return [(path[0], values) for path, values in found]


def _plainly_meets(conditions: list[tuple[str, set[str]]], doc: Document) -> bool | None:
    """Whether `doc` meets plain string conditions, where the fields they name hold a string
    or a list of strings (answered as MongoDB and mongomock answer); None when one holds
    anything else, for `filter_applies` to decide."""
    unsure = False
    for field, values in conditions:
        value = doc.get(field)
        if isinstance(value, str):
            met = value in values
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            met = not values.isdisjoint(value)
        elif value is None:
            met = False
        else:
            unsure = True
            continue
        if not met:
            return False
    return None if unsure else True


class _NotNative(Exception):
    """A sort value whose BSON order Python's own comparison does not give."""


# BSON's order between types (mongomock's `_get_compare_type`), for values Python compares
# within each as BSON does.
_TYPE_RANK: dict[type, int] = {bool: 40, int: 10, float: 10, str: 15, datetime: 45, ObjectId: 35}
_DATE_RANK = _TYPE_RANK[datetime]


def _native_sort_key(field: str, doc: Document) -> tuple[int, int, Any]:
    """mongomock's `resolve_sort_key` as plain values: (present, BSON type rank, value), for a
    sort that Python's own comparisons run instead of `bson_compare` per pair."""
    value = doc.get(field, filtering.NOTHING) if "." not in field else resolve_key(field, doc)
    rank = _TYPE_RANK.get(type(value))
    if rank is not None and (rank != _DATE_RANK or value.tzinfo is None):
        return 1, rank, value  # the common case first: a plain value
    if value is filtering.NOTHING:
        return 1, 5, 0
    if isinstance(value, list | tuple):
        if not value:
            return 0, 5, 0
        value = value[0]
    if value is None:
        return 1, 5, 0
    rank = _TYPE_RANK.get(type(value))
    if rank is None or (rank == _DATE_RANK and value.tzinfo is not None):
        raise _NotNative  # (the store's dates are naive: an aware one is mongomock's to sort)
    return 1, rank, value


def _in_order(docs: list[Document], keys: list[tuple[str, int]]) -> Iterator[Document]:
    """`docs` in sort order. An ascending sort on plain values is a heap, popped only as far
    as the reader reads (a claim reads 32 of the backlog); ties keep the collection's order,
    as the stable sorts of `_sorted` do."""
    if all(direction > 0 for _, direction in keys):
        try:
            heap = [
                (tuple(_native_sort_key(field, doc) for field, _ in keys), n)
                for n, doc in enumerate(docs)
            ]
        except _NotNative:
            return iter(_sorted(docs, keys))
        heapq.heapify(heap)
        return (docs[heapq.heappop(heap)[1]] for _ in range(len(heap)))
    return iter(_sorted(docs, keys))


def _sorted(docs: list[Document], keys: list[tuple[str, int]]) -> list[Document]:
    """`docs` in the order mongomock's sort gives (a stable sort per key, last key first), on
    plain values where every value allows it."""
    for field, direction in reversed(keys):
        try:
            values: list[Any] = [_native_sort_key(field, doc) for doc in docs]
            order = sorted(range(len(docs)), key=values.__getitem__, reverse=direction < 0)
        except (_NotNative, TypeError):
            values = [resolve_sort_key(field, doc) for doc in docs]
            order = sorted(range(len(docs)), key=values.__getitem__, reverse=direction < 0)
        docs = [docs[i] for i in order]
    return docs


def _sort_keys(sort: Any) -> list[tuple[str, int]] | None:
    """A find's sort as (field, direction) pairs; None without one, or for `$natural`, a
    `$meta` score and the like, which mongomock sorts itself."""
    if not sort:
        return None
    keys = list(sort.items() if isinstance(sort, Mapping) else sort)
    if any(str(k).startswith("$") or type(d) is not int for k, d in keys):
        return None
    return [(str(k), d) for k, d in keys]


def _named_fields(expr: Any) -> set[str]:
    """Top-level fields a filter expression mentions."""
    if isinstance(expr, list):
        return set().union(*(_named_fields(e) for e in expr))
    if not isinstance(expr, Mapping):
        return set()
    named: set[str] = set()
    for key, value in expr.items():
        named |= _named_fields(value) if str(key).startswith("$") else {str(key).split(".")[0]}
    return named


def _unique_fields(coll: mongomock.Collection[Document]) -> set[str]:
    """Top-level fields some unique index depends on: its keys and its partial filter."""
    fields: set[str] = set()
    hooks: Any = coll  # mongomock's own attributes, not in its (pymongo's) stub
    for index in hooks._store.indexes.values():
        if index.get("unique"):
            fields |= {field.split(".")[0] for field, _ in index["key"]}
            fields |= _named_fields(index.get("partialFilterExpression") or {})
    return fields


def _changed_fields(update: Any) -> set[str] | None:
    """Top-level fields an update document changes; None for a replacement, a pipeline or a
    `$rename` (then nothing is assumed)."""
    if not isinstance(update, Mapping) or not update or "$rename" in update:
        return None
    changed: set[str] = set()
    for operator, spec in update.items():
        if not str(operator).startswith("$") or not isinstance(spec, Mapping):
            return None
        changed |= {str(path).split(".")[0] for path in spec}
    return changed


def _store_key(doc_id: Any) -> Any:
    """The key mongomock files a document under (a sub-document `_id` is made hashable)."""
    return mongomock.helpers.hashdict(doc_id) if isinstance(doc_id, dict) else doc_id


class _Indexed(NamedTuple):
    """A document as an ordered view last saw it: its strings at the view's field, its sort
    key, its place in the collection (`seq`) and the version its heap entries carry."""

    doc: Document
    sort_key: tuple[Any, ...]
    seq: int
    values: frozenset[str]
    version: int


# A heap entry: (sort key, seq, version, store key); (sort key, seq) is one document's.
_Entry = tuple[tuple[Any, ...], int, int, Any]


class _OrderedView:
    """The documents holding each string at `field`, in the order of `keys` (ascending; ties
    in the collection's order, as mongomock's stable sort leaves them): what a server's
    `(field, keys[0])` index gives a query such as a consumer's claim (`{"pending": name}`,
    oldest first, 32 of them). Without it each claim tested and sorted the whole backlog.

    It follows the collection without being told of inserts and deletes: documents added
    since the last read are the ones at the end of the store's (ordered) mapping that it has
    not seen as they are; a deleted document is dropped when a read meets it. Updates, which
    mongomock makes in place, are reported to it (`updated`). Entries are never edited: a
    changed document gets new ones with a new version, and the old ones are skipped, popped
    when they reach the top, or dropped when the heaps are rebuilt. It holds the store's
    mapping weakly: dropping the collection gives the store a new one, and the old one's
    documents go with it (a view not read again kept a dropped database whole)."""

    def __init__(self, field: str, keys: Sequence[tuple[str, int]]) -> None:
        self.field = field
        self.keys = list(keys)
        self._documents: weakref.ref[Mapping[Any, Document]] | None = None  # what it follows
        self._known: dict[Any, _Indexed] = {}
        self._heaps: dict[str, list[_Entry]] = {}
        self._unsure: set[Any] = set()  # documents it cannot place: their queries are not its
        self._seq = 0
        self._version = 0
        self._live = 0
        self._entries = 0

    def size(self, value: str) -> int:
        return len(self._heaps.get(value, ()))

    def ordered(self, value: str, documents: Mapping[Any, Document]) -> Iterator[Document] | None:
        """The documents holding `value`, in order, read as far as the reader reads (no write
        may come between); None when some document's field or sort value is not plain."""
        self.follow(documents)
        if self._unsure:
            return None
        return self._walk(value, documents)

    def places(self, keys: Iterable[Any], documents: Mapping[Any, Document]) -> list[int] | None:
        """Each document's place in the collection's order (`keys` are in it), when few enough
        to be worth it; None otherwise."""
        keys = list(keys)
        if len(keys) * 8 > len(documents):
            return None
        self.follow(documents)
        return [self._known[key].seq for key in keys]

    def updated(self, keys: Iterable[Any], documents: Mapping[Any, Document]) -> None:
        """Take in the documents (store keys) an update may have changed in place."""
        if not self._follows(documents):
            return
        for key in keys:
            known = self._known.get(key)
            doc = documents.get(key)
            if known is None or doc is None:
                continue  # inserted since the last read (found then) or deleted (skipped)
            if known.doc is not doc:  # replaced (a rolled-back update): read it all again
                self._documents = None
                return
            self._put(key, doc, known.seq)

    def follow(self, documents: Mapping[Any, Document]) -> None:
        """Take in what was written since the last read. What deletes and changes leave
        behind is dropped by reading it all again."""
        stale = self._entries > 2 * self._live + 1024 or len(self._known) > 2 * len(documents)
        if not self._follows(documents) or stale:
            self._rebuild(documents)
            return
        fresh = []
        for key in reversed(documents):
            doc = documents[key]
            known = self._known.get(key)
            if known is not None and known.doc is doc:
                break  # everything before it was here at the last read
            fresh.append((key, doc))
        for key, doc in reversed(fresh):
            self._seq += 1
            self._put(key, doc, self._seq)

    def _follows(self, documents: Mapping[Any, Document]) -> bool:
        return self._documents is not None and self._documents() is documents

    def _rebuild(self, documents: Mapping[Any, Document]) -> None:
        self._forget()
        self._documents = weakref.ref(documents, self._dropped)
        for key, doc in documents.items():
            self._seq += 1
            self._put(key, doc, self._seq)

    def _dropped(self, mapping: weakref.ref[Mapping[Any, Document]]) -> None:
        if mapping is self._documents:  # (not one it had already left)
            self._forget()

    def _forget(self) -> None:
        self._documents = None
        self._known, self._heaps, self._unsure = {}, {}, set()
        self._live = self._entries = 0

    def _describe(self, doc: Document) -> tuple[tuple[Any, ...], frozenset[str]] | None:
        value = doc.get(self.field)
        if isinstance(value, str):
            values = frozenset((value,))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            values = frozenset(value)
        elif value is None:
            values = frozenset()
        else:
            return None
        try:
            return tuple(_native_sort_key(field, doc) for field, _ in self.keys), values
        except _NotNative:
            return None

    def _put(self, key: Any, doc: Document, seq: int) -> None:
        old = self._known.get(key)
        described = self._describe(doc)
        if described is None:
            self._unsure.add(key)
            described = ((), frozenset())
        else:
            self._unsure.discard(key)
        sort_key, values = described
        if old is not None and (old.sort_key, old.values, old.seq) == (sort_key, values, seq):
            self._known[key] = old._replace(doc=doc)
            return
        self._version += 1
        self._live += len(values) - (len(old.values) if old else 0)
        self._known[key] = _Indexed(doc, sort_key, seq, values, self._version)
        for value in values:
            heapq.heappush(self._heaps.setdefault(value, []), (sort_key, seq, self._version, key))
            self._entries += 1

    def _valid(self, entry: _Entry, value: str, documents: Mapping[Any, Document]) -> bool:
        key = entry[3]
        known = self._known.get(key)
        if known is None or known.version != entry[2] or value not in known.values:
            return False
        if documents.get(key) is not known.doc:  # deleted since
            self._live -= len(known.values)
            del self._known[key]
            return False
        return True

    def _walk(self, value: str, documents: Mapping[Any, Document]) -> Iterator[Document]:
        """The heap's valid entries in order: stale ones at its top are popped for good, the
        rest read by a best-first walk of the heap's tree, which leaves it as it is."""
        heap = self._heaps.get(value, [])
        while heap and not self._valid(heap[0], value, documents):
            heapq.heappop(heap)
            self._entries -= 1
        frontier = [(heap[0], 0)] if heap else []
        while frontier:
            entry, at = heapq.heappop(frontier)
            for child in (2 * at + 1, 2 * at + 2):
                if child < len(heap):
                    heapq.heappush(frontier, (heap[child], child))
            if self._valid(entry, value, documents):
                yield documents[entry[3]]


class _ExpiryThrottle:
    """A store's `_remove_expired_documents`, run at most every `EXPIRY_INTERVAL` seconds of
    `monotonic`: mongomock runs it on every access, testing every document of a collection
    with a TTL index (most of the demo's time after a big import)."""

    def __init__(self, expire: Callable[[], None], monotonic: Callable[[], float]) -> None:
        self._expire = expire
        self._monotonic = monotonic
        self._due = -math.inf

    def __call__(self) -> None:
        now = self._monotonic()
        if now >= self._due:
            self._due = now + EXPIRY_INTERVAL
            self._expire()


def _throttle_expiry(store: Any, monotonic: Callable[[], float]) -> None:
    """Throttle the store's expiry checks (once per store: its collections may be re-made)."""
    if not isinstance(store._remove_expired_documents, _ExpiryThrottle):
        store._remove_expired_documents = _ExpiryThrottle(
            store._remove_expired_documents, monotonic
        )


def _hashable(key: tuple[Any, ...]) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


def _holds(doc: Document, fields: list[str], wanted: tuple[Any, ...]) -> bool:
    """Whether `doc` may hold `wanted` at `fields`: it holds it, or an array there may."""
    value = tuple(map(doc.get, fields))
    return value == wanted or list in map(type, value)


class _UniqueLookup:
    """The store keys of the documents holding each value of a unique index's top-level
    fields, so that the unique check after a write reads the few that may clash instead of
    every document. Every document the check is given is added (mongomock gives it each
    inserted or changed one); entries are confirmed when read, and dropped when their
    document is gone or holds another value. A document holding an array or an unhashable
    value there is kept aside and always read (an array may hold the value)."""

    def __init__(self, index: Mapping[str, Any], documents: Mapping[Any, Document]) -> None:
        self.index = index
        self.documents = documents
        self._fields = [field for field, _ in index["key"]]
        self._by_value: dict[tuple[Any, ...], set[Any]] = {}
        self._odd: set[Any] = set()
        for key, doc in documents.items():
            self.add(key, doc)

    def _value(self, doc: Document) -> tuple[Any, ...]:
        return tuple(map(doc.get, self._fields))

    def add(self, key: Any, doc: Document) -> None:
        value = self._value(doc)
        if list in map(type, value) or not _hashable(value):
            self._odd.add(key)
        else:
            self._by_value.setdefault(value, set()).add(key)

    def holding(self, wanted: tuple[Any, ...]) -> list[Document]:
        """The documents whose fields hold `wanted`, or an array (which may hold it)."""
        found: dict[Any, Document] = {}
        keys = self._by_value.get(wanted, set())
        for key in list(keys):
            doc = self.documents.get(key)
            if doc is None or self._value(doc) != wanted:
                keys.discard(key)  # (added again when its document is given again)
            else:
                found[key] = doc
        for key in list(self._odd):
            doc = self.documents.get(key)
            if doc is None:
                self._odd.discard(key)
                continue
            if _holds(doc, self._fields, wanted):
                found[key] = doc
        return list(found.values())


def _indexed_equalities(
    query: Any, keys: Sequence[tuple[str, int]], indexes: Iterable[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """A query's `{field: "s"}` conditions that a declared index would answer in the order of
    an ascending sort on `keys`, as (field, "s"): an index led by `field` whose next keys are
    the sort's first, or, before it, fields the query also pins to a string (`(endpoint_id,
    status, next_attempt_at)` for `{endpoint_id: e, status: "pending"}` by due time)."""
    if not isinstance(query, Mapping) or any(direction < 0 for _, direction in keys):
        return []
    leading = {
        str(index["key"][0][0])
        for index in indexes
        if tuple(index["key"][0])[1] == 1 and _sorts_after_pinned(index["key"], keys[0], query)
    }
    return [
        (str(field), spec)
        for field, spec in query.items()
        if isinstance(spec, str) and field in leading and "." not in str(field) and field != "_id"
    ]


def _sorts_after_pinned(index_keys: Any, sort: tuple[str, int], query: Mapping[str, Any]) -> bool:
    """Whether, after its first key, the index holds `sort` next or after keys the query
    pins to a string: its entries for one value of the first key are then in `sort` order."""
    rest = [tuple(key) for key in index_keys[1:]]
    if (sort[0], 1) not in rest:
        return False
    between = rest[: rest.index((sort[0], 1))]
    return all(isinstance(query.get(field), str) for field, _ in between)


def _recorded(docs: Iterator[Document], into: list[Any]) -> Iterator[Document]:
    """`docs`, noting the store key of each as it is handed out (to an update)."""
    for doc in docs:
        into.append(_store_key(doc["_id"]))
        yield doc


def _speed_up(coll: mongomock.Collection[Document], monotonic: Callable[[], float]) -> None:
    """Give a mongomock collection the shortcuts a real engine's indexes give: a query
    that names `_id`s reads those documents instead of testing every one, and the unique-index
    check after a write compares field values instead of running the general query engine
    over the whole collection. Without them every update of a message cost a slow pass over
    all messages (most of the sentiment worker's time). A third: a sorted query that a
    declared `(field, sort key)` index would answer reads from an ordered view of the
    collection (`_OrderedView`), which mongomock's updates report to. Answers are unchanged:
    candidates are confirmed with mongomock's own `filter_applies`. Expired documents are
    looked for every few seconds of `monotonic` (`_ExpiryThrottle`), not on every access."""
    hooks: Any = coll  # mongomock's own attributes, not in its (pymongo's) stub
    store = hooks._store
    _throttle_expiry(store, monotonic)
    general_iter: Callable[[Any], Iterator[Document]] = hooks._iter_documents
    general_dataset: Callable[..., Iterator[Document]] = hooks._get_dataset
    general_unique: Callable[[Document], None] = hooks._ensure_uniques
    general_update: Callable[..., Any] = hooks._update
    views: dict[tuple[str, tuple[tuple[str, int], ...]], _OrderedView] = {}
    lookups: dict[str, _UniqueLookup] = {}  # by unique index name
    recording: list[list[Any]] = []  # the store keys each update in progress handed out

    def shortcut(query: Any) -> tuple[list[Document], bool] | None:
        """The documents that may match, in the collection's order, and whether each is
        still to be confirmed by `filter_applies`; None when no shortcut answers `query`."""
        ids = _ids_named(query)
        if ids is not None:
            store._remove_expired_documents()
            docs = store._documents
            wanted = set(ids) if len(ids) > 1 else None
            if wanted is not None:
                return in_collection_order([k for k in wanted if k in docs], docs), True
            return ([docs[ids[0]]] if ids and ids[0] in docs else []), True
        plain = _plain_conditions(query)
        if plain is not None:  # equality on strings (`{"pending": consumer}`): answered here
            found = []
            for doc in store.documents:
                met = _plainly_meets(plain, doc)
                if met or (met is None and filter_applies(query, doc)):
                    found.append(doc)
            return found, False
        may_match = _strings_in(query)
        if may_match is not None:
            top = [
                (path[0], values) for path, values in _string_conditions(query) if len(path) == 1
            ]
            if top:  # a condition every match meets, tested as plainly as above
                return [
                    doc for doc in store.documents if _plainly_meets(top, doc) is not False
                ], True
            return [doc for doc in store.documents if may_match(doc)], True
        return None

    def candidates(query: Any) -> tuple[list[Document], bool]:
        """`shortcut`'s answer, else every document, each to be confirmed."""
        found = shortcut(query)
        if found is not None:
            return found
        if store.is_empty:
            filter_applies(query, {})  # as mongomock: a bad filter fails on no documents too
        return list(store.documents), True

    def iter_documents(query: Any) -> Iterator[dict[str, Any]]:
        docs = matching(query)
        return _recorded(docs, recording[-1]) if recording else docs

    def matching(query: Any) -> Iterator[dict[str, Any]]:
        found = shortcut(query)
        if found is None:
            return general_iter(query)
        docs, unsure = found
        return (doc for doc in docs if filter_applies(query, doc)) if unsure else iter(docs)

    def update(*args: Any, **kwargs: Any) -> Any:
        """mongomock's, telling the ordered views which documents it changed in place."""
        if not views:
            return general_update(*args, **kwargs)
        touched: list[Any] = []
        recording.append(touched)
        try:
            return general_update(*args, **kwargs)
        finally:
            recording.pop()
            for view in views.values():
                view.updated(touched, store._documents)

    def in_collection_order(keys: list[Any], docs: Mapping[Any, Document]) -> list[Document]:
        """The documents under `keys`, in the collection's order: from an ordered view's
        places where there is one (a claim names 32 events of a long log), else by a pass."""
        for view in views.values():
            places = view.places(keys, docs)
            if places is not None:
                return [docs[k] for _, k in sorted(zip(places, keys, strict=True))]
        wanted = set(keys)
        return [docs[k] for k in docs if k in wanted]

    def ordered(query: Any, keys: list[tuple[str, int]]) -> Iterator[Document] | None:
        """The documents that may match, in sort order, from an ordered view, when a declared
        index would answer the query (`_indexed_equalities`); None otherwise. Of several such
        conditions, the one whose view holds the fewest entries for its value is read."""
        found = _indexed_equalities(query, keys, store.indexes.values())
        if not found:
            return None
        store._remove_expired_documents()
        documents = store._documents
        if not documents:
            return None  # (mongomock's path checks the filter even on no documents)
        candidates = []
        for field, value in found:
            view = views.get((field, tuple(keys)))
            if view is None:
                view = views[(field, tuple(keys))] = _OrderedView(field, keys)
            view.follow(documents)  # (only what was written since its last read)
            candidates.append((view, value))
        view, value = min(candidates, key=lambda pair: pair[0].size(pair[1]))
        return view.ordered(value, documents)

    def get_dataset(query: Any, sort: Any, fields: Any, as_class: Any) -> Iterator[Document]:
        """mongomock's, sorting on plain values instead of comparing every pair with
        `bson_compare`, and confirming candidates only as far as the reader reads (a claim
        of the first 32 pending events no longer tests and copies the whole backlog)."""
        keys = _sort_keys(sort)
        if keys is None:
            return general_dataset(query, sort, fields, as_class)
        in_order = ordered(query, keys)
        if in_order is not None:
            plain = [(path[0], v) for path, v in _string_conditions(query) if len(path) == 1]
            return (
                hooks._copy_only_fields(doc, fields, as_class)
                for doc in in_order
                if _plainly_meets(plain, doc) is not False and filter_applies(query, doc)
            )
        found, unsure = candidates(query)
        return (
            hooks._copy_only_fields(doc, fields, as_class)
            for doc in _in_order(found, keys)
            if not unsure or filter_applies(query, doc)
        )

    def lookup(name: str, index: Mapping[str, Any]) -> _UniqueLookup:
        """The index's lookup, made again for a new index or after the collection's drop."""
        found = lookups.get(name)
        if found is None or found.index is not index or found.documents is not store._documents:
            found = lookups[name] = _UniqueLookup(index, store._documents)
        return found

    def ensure_uniques(new_data: dict[str, Any]) -> None:
        if getattr(hooks, "_kith_uniques_unchanged", False):
            return  # the write left every field a unique index looks at as it was
        key = _store_key(new_data["_id"])
        for known in lookups.values():
            known.add(key, new_data)
        for name, index in store.indexes.items():
            if not index.get("unique"):
                continue
            fields = [field for field, _ in index["key"]]
            wanted = tuple(new_data.get(f) for f in fields)
            if any("." in f for f in fields) or any(isinstance(v, list | dict) for v in wanted):
                general_unique(new_data)
                return
            if index.get("sparse") and all(v is None for v in wanted):
                continue
            partial = index.get("partialFilterExpression")
            if partial is not None and not filter_applies(partial, new_data):
                continue  # outside a partial index: nothing to clash with
            query: dict[str, Any] = dict(zip(fields, wanted, strict=True))
            if partial is not None:
                query = {"$and": [partial, query]}
            store._remove_expired_documents()
            if _hashable(wanted):
                found = lookup(name, index).holding(wanted)
            else:
                found = [doc for doc in store._documents.values() if _holds(doc, fields, wanted)]
            if sum(1 for doc in found if filter_applies(query, doc)) > 1:
                raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)

    hooks._iter_documents = iter_documents
    hooks._get_dataset = get_dataset
    hooks._update = update
    hooks._ensure_uniques = ensure_uniques


def _as_bson(*parts: Any) -> None:
    """Encode what would go over the wire, so that what a server cannot take (a NUL byte
    in a key or a regex, an integer beyond 64 bits) fails here as it does there
    (`InvalidDocument`, `OverflowError`); mongomock itself stores anything."""
    bson.encode({"parts": list(parts)})


class EmbeddedCollection:
    """Async facade over one mongomock collection: a `kith.core.collection.Collection`."""

    def __init__(
        self, coll: mongomock.Collection[Document], monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        _speed_up(coll, monotonic)
        self._coll = coll
        self.name: str = coll.name

    async def insert_one(self, document: Document, /) -> InsertOneResult:
        _as_bson(document)
        return self._coll.insert_one(document)

    async def insert_many(
        self, documents: Iterable[Document], /, *, ordered: bool = True
    ) -> InsertManyResult:
        documents = list(documents)
        _as_bson(*documents)
        return self._coll.insert_many(documents, ordered=ordered)

    async def find_one(
        self,
        filter: Filter | None = None,
        projection: Mapping[str, Any] | None = None,
        /,
        *,
        sort: Keys | None = None,
    ) -> Document | None:
        """Through `find` with a limit of one: mongomock's own copies every match first."""
        if filter is not None and not isinstance(filter, Mapping):
            filter = {"_id": filter}
        found = await self.find(filter, projection, sort=sort, limit=1).to_list(1)
        return found[0] if found else None

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
    ) -> EmbeddedCursor:
        _as_bson(filter)
        cursor = self._coll.find(
            filter, projection, sort=sort, limit=limit, batch_size=batch_size, collation=collation
        )
        return EmbeddedCursor(cursor)

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], /) -> EmbeddedResults:
        """mongomock lacks `$lookup` with a `pipeline`. Kith uses only its uncorrelated form
        (a sub-query of constants, no `let`), placed after every other stage: that is run
        here, once, and its result attached to each document, as a server would."""
        split = len(pipeline)
        while split and _is_subquery(pipeline[split - 1]):
            split -= 1
        if any(_is_subquery(stage) for stage in pipeline[:split]):
            raise NotImplementedError("embedded engine: put sub-query $lookup stages last")
        docs = list(self._coll.aggregate(list(pipeline[:split])))
        for stage in pipeline[split:]:
            spec = stage["$lookup"]
            found = _subquery(self._coll.database[spec["from"]], spec["pipeline"])
            for doc in docs:
                doc[spec["as"]] = copy.deepcopy(found)
        return EmbeddedResults(iter(docs))

    async def count_documents(self, filter: Filter, /, *, skip: int = 0, limit: int = 0) -> int:
        cut: dict[str, Any] = {name: n for name, n in (("skip", skip), ("limit", limit)) if n}
        return int(self._coll.count_documents(filter, **cut))

    async def estimated_document_count(self) -> int:
        return int(self._coll.estimated_document_count())

    async def distinct(self, key: str, filter: Filter | None = None, /) -> list[Any]:
        return list(self._coll.distinct(key, filter))

    async def update_one(
        self, filter: Filter, update: Update, /, *, upsert: bool = False
    ) -> UpdateResult:
        _as_bson(filter, update)
        run = partial(self._coll.update_one, filter, update, upsert=upsert)
        return self._update(update, upsert, run)

    async def update_many(
        self, filter: Filter, update: Update, /, *, upsert: bool = False
    ) -> UpdateResult:
        _as_bson(filter, update)
        run = partial(self._coll.update_many, filter, update, upsert=upsert)
        return self._update(update, upsert, run)

    def _update(self, update: Update, upsert: bool, run: Callable[[], T]) -> T:
        """Run an update, telling the unique check when it cannot matter: no document is
        inserted and no field a unique index depends on changes."""
        changed = None if upsert else _changed_fields(update)
        unchanged = changed is not None and changed.isdisjoint(_unique_fields(self._coll))
        hooks: Any = self._coll  # mongomock's own attributes, not in its (pymongo's) stub
        hooks._kith_uniques_unchanged = unchanged
        try:
            return run()
        finally:
            hooks._kith_uniques_unchanged = False

    async def replace_one(
        self, filter: Filter, replacement: Document, /, *, upsert: bool = False
    ) -> UpdateResult:
        _as_bson(filter, replacement)
        return self._coll.replace_one(filter, replacement, upsert=upsert)

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
        _as_bson(filter, update)
        run = partial(
            self._coll.find_one_and_update,
            filter,
            update,
            projection=projection,
            sort=sort,
            upsert=upsert,
            return_document=return_document,
        )
        return self._update(update, upsert, run)

    async def find_one_and_delete(
        self, filter: Filter, /, *, sort: Keys | None = None
    ) -> Document | None:
        return self._coll.find_one_and_delete(filter, sort=sort)

    async def delete_one(self, filter: Filter, /) -> DeleteResult:
        return self._coll.delete_one(filter)

    async def delete_many(self, filter: Filter, /) -> DeleteResult:
        return self._coll.delete_many(filter)

    async def bulk_write(
        self, requests: Sequence[WriteRequest], /, *, ordered: bool = True
    ) -> BulkWriteResult:
        """PyMongo's request objects, applied one by one (mongomock's own bulk_write does not
        know the arguments current PyMongo passes). A duplicate key fails as on a server:
        `BulkWriteError` naming the request; ordered writes stop there, unordered ones go on."""
        counts = {"nInserted": 0, "nMatched": 0, "nModified": 0, "nRemoved": 0, "nUpserted": 0}
        errors: list[dict[str, Any]] = []
        upserted: list[dict[str, Any]] = []
        for index, request in enumerate(requests):
            try:
                upserted_id = self._apply(request, counts)
            except DuplicateKeyError as exc:
                errors.append({"index": index, "code": 11000, "errmsg": str(exc)})
                if ordered:
                    break
            else:
                if upserted_id is not None:
                    upserted.append({"index": index, "_id": upserted_id})
        outcome = {**counts, "writeErrors": errors, "writeConcernErrors": [], "upserted": upserted}
        if errors:
            raise BulkWriteError(outcome)
        return BulkWriteResult(outcome, acknowledged=True)

    def _apply(self, request: WriteRequest, counts: dict[str, int]) -> Any:
        """One request of a bulk write, added to `counts` (named as in a server's answer);
        the `_id` it upserted, if any."""
        # PyMongo's request objects keep their arguments in private attributes.
        fields: Any = request
        if isinstance(request, InsertOne):
            self._coll.insert_one(fields._doc)
            counts["nInserted"] += 1
            return None
        if isinstance(request, DeleteOne | DeleteMany):
            delete = self._coll.delete_one if isinstance(request, DeleteOne) else None
            counts["nRemoved"] += (delete or self._coll.delete_many)(fields._filter).deleted_count
            return None
        upsert = bool(fields._upsert)
        if isinstance(request, ReplaceOne):
            result = self._coll.replace_one(fields._filter, fields._doc, upsert=upsert)
        else:
            method = (
                self._coll.update_one if isinstance(request, UpdateOne) else self._coll.update_many
            )
            run = partial(method, fields._filter, fields._doc, upsert=upsert)
            result = self._update(fields._doc, upsert, run)
        counts["nMatched"] += result.matched_count
        counts["nModified"] += result.modified_count
        counts["nUpserted"] += int(result.upserted_id is not None)
        return result.upserted_id

    async def create_index(self, keys: str | Keys, /, **options: Unpack[IndexOptions]) -> str:
        """Idempotent as on a server: an index that already exists is left alone (mongomock
        would re-check it against the data and ignore a partial filter while doing so)."""
        name = options.get("name") or "_".join(
            f"{k}_{d}" for k, d in ([(keys, 1)] if isinstance(keys, str) else keys)
        )
        if name in self._coll.index_information():
            return name
        partial = options.get("partialFilterExpression")
        if not options.get("unique") or partial is None:
            return str(self._coll.create_index(keys, **options))
        # A new unique partial index: as a server, only the documents its filter selects are
        # checked (mongomock checks all), so the others are set aside while it is built.
        hooks: Any = self._coll  # mongomock's own attributes, not in its (pymongo's) stub
        documents = hooks._store._documents
        kept = list(documents.items())
        for key, doc in kept:
            if not filter_applies(partial, doc):
                del documents[key]
        try:
            return str(self._coll.create_index(keys, **options))
        finally:
            documents.clear()
            documents.update(kept)  # in their order, as they were

    async def index_information(self) -> dict[str, Any]:
        return dict(self._coll.index_information())

    async def drop(self) -> None:
        self._coll.drop()

    async def watch(
        self,
        pipeline: Sequence[Mapping[str, Any]] | None = None,
        /,
        *,
        resume_after: Mapping[str, Any] | None = None,
    ) -> AsyncCollectionChangeStream[Document]:
        """Refused as a standalone mongod refuses it: change streams need a replica set."""
        raise OperationFailure(
            "The $changeStream stage is only supported on replica sets",
            CHANGE_STREAMS_UNSUPPORTED,
        )


class EmbeddedDatabase:
    """Async facade over one mongomock database."""

    def __init__(
        self, db: mongomock.Database[Document], monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._db = db
        self._monotonic = monotonic
        self.name: str = db.name
        self._colls: dict[str, EmbeddedCollection] = {}

    def __getitem__(self, name: str) -> EmbeddedCollection:
        coll = self._colls.get(name)
        if coll is None:
            coll = self._colls[name] = EmbeddedCollection(self._db[name], self._monotonic)
        return coll

    def get_collection(self, name: str) -> EmbeddedCollection:
        return self[name]

    async def command(self, command: str | MutableMapping[str, Any], **kw: Any) -> Document:
        name = command if isinstance(command, str) else next(iter(command))
        if name == "ping":
            return {"ok": 1.0}
        return dict(self._db.command(command, **kw))

    async def list_collection_names(self) -> list[str]:
        return list(self._db.list_collection_names())


class EmbeddedClient:
    """Stands in for `AsyncMongoClient` when no server is configured; keeps nothing on disk.
    `monotonic` paces the TTL monitor's rounds (`EXPIRY_INTERVAL`)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._client: mongomock.MongoClient[Document] = mongomock.MongoClient(tz_aware=True)
        self._monotonic = monotonic
        self._dbs: dict[str, EmbeddedDatabase] = {}

    def __getitem__(self, name: str) -> EmbeddedDatabase:
        db = self._dbs.get(name)
        if db is None:
            db = self._dbs[name] = EmbeddedDatabase(self._client[name], self._monotonic)
        return db

    def get_database(self, name: str) -> EmbeddedDatabase:
        return self[name]

    @property
    def admin(self) -> EmbeddedDatabase:
        return self["admin"]

    async def drop_database(self, name: str) -> None:
        self._client.drop_database(name)
        self._dbs.pop(name, None)

    async def close(self) -> None:
        self._client.close()
