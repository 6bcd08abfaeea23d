"""Database faults at the network boundary: one call on a collection fails as if the
connection dropped, so tests can check that nothing is left half-written; or another client's
work lands just before a call, to check what a race leaves behind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pymongo.errors import AutoReconnect, BulkWriteError, OperationFailure

from kith.core.collection import WRITE_CONFLICT


@contextlib.contextmanager
def _before_calls(
    collection: Any, method: str, before: Callable[[], Awaitable[Any]], times: int
) -> Iterator[None]:
    """Run `before` ahead of the next `times` calls of `collection.method`, then let them go."""
    original = getattr(collection, method)
    left = times

    async def intercepted(*args: Any, **kwargs: Any) -> Any:
        nonlocal left
        if left > 0:
            left -= 1
            await before()
        return await original(*args, **kwargs)

    setattr(collection, method, intercepted)
    try:
        yield
    finally:
        setattr(collection, method, original)


@contextlib.contextmanager
def failing(collection: Any, method: str, times: int = 1) -> Iterator[None]:
    async def lost() -> None:
        raise ConnectionError("connection to the database lost")

    with _before_calls(collection, method, lost, times):
        yield


@contextlib.contextmanager
def racing(collection: Any, method: str, other: Callable[[], Awaitable[Any]]) -> Iterator[None]:
    """`other` (another client's work) runs once just before the next call of `method`, as if
    its writes had landed between this client's read and its write."""
    with _before_calls(collection, method, other, 1):
        yield


@contextlib.contextmanager
def conflicting(collection: Any, method: str, times: int = 1) -> Iterator[None]:
    """The engine answers the next `times` calls with WriteConflict, as DocumentDB does when
    PostgreSQL finds two writers deadlocked (the error reaches the driver, under Kith's retry)."""

    async def conflict() -> None:
        raise OperationFailure(
            "deadlock detected",
            WRITE_CONFLICT,
            {"ok": 0.0, "errmsg": "deadlock detected", "code": WRITE_CONFLICT},
        )

    with _before_calls(collection.raw, method, conflict, times):
        yield


@contextlib.contextmanager
def refusing(
    collection: Any, refused: Callable[[Any], bool], code: int, times: int = 1
) -> Iterator[list[Any]]:
    """The engine refuses the requests of a bulk write for which `refused(request)` holds
    (the first `times` of them) with a write error `code`, and applies the others, as a
    server answers an unordered bulk write; yields the refused requests."""
    original = collection.raw.bulk_write
    seen: list[Any] = []

    async def partly(requests: Any, ordered: bool = True) -> Any:
        picked = [n for n, r in enumerate(requests) if len(seen) < times and refused(r)]
        seen.extend(requests[n] for n in picked)
        if not picked:
            return await original(requests, ordered=ordered)
        kept = [n for n in range(len(requests)) if n not in picked]
        details: dict[str, Any] = {"writeErrors": [], "upserted": [], "writeConcernErrors": []}
        if kept:
            try:
                result = await original([requests[n] for n in kept], ordered=ordered)
                details.update(result.bulk_api_result)
            except BulkWriteError as error:
                details.update(error.details)
        errors = [{**e, "index": kept[e["index"]]} for e in details["writeErrors"]]
        errors += [{"index": n, "code": code, "errmsg": "refused by the test"} for n in picked]
        details["writeErrors"] = sorted(errors, key=lambda e: e["index"])
        details["upserted"] = [{**u, "index": kept[u["index"]]} for u in details["upserted"]]
        raise BulkWriteError(details)

    collection.raw.bulk_write = partly
    try:
        yield seen
    finally:
        collection.raw.bulk_write = original


@contextlib.contextmanager
def counting(collection: Any, method: str) -> Iterator[list[int]]:
    """Records how many requests each call of `collection.method` carried (its first
    argument's length): how many round trips a grouped write took, and how full they were."""
    original = getattr(collection, method)
    sizes: list[int] = []

    async def counted(requests: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(requests))
        return await original(requests, *args, **kwargs)

    setattr(collection, method, counted)
    try:
        yield sizes
    finally:
        setattr(collection, method, original)


class Frozen:
    """Set once a call has frozen: the moment to kill the process that made it."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.released = asyncio.Event()


@contextlib.contextmanager
def freezing(collection: Any, method: str, after: int = 0) -> Iterator[Frozen]:
    """The first `after` calls of `collection.method` go through; the next one never returns,
    as when the process making it is killed right there (cancel its task). Leaving the block
    ends the frozen call with a dropped connection: a write batched by group commit runs in a
    task of its own, which in a killed process dies too, and on the embedded engine (one store
    for both "processes") it would otherwise hold the collection's queue for good."""
    original = getattr(collection, method)
    frozen = Frozen()
    passed = 0

    async def intercepted(*args: Any, **kwargs: Any) -> Any:
        nonlocal passed
        if passed < after:
            passed += 1
            return await original(*args, **kwargs)
        frozen.reached.set()
        await frozen.released.wait()
        raise AutoReconnect("the process making this call was killed")

    setattr(collection, method, intercepted)
    try:
        yield frozen
    finally:
        setattr(collection, method, original)
        frozen.released.set()


@contextlib.contextmanager
def failing_finds(collection: Any) -> Iterator[None]:
    """Every `find` on `collection` fails as if the connection dropped (`find` answers a
    cursor without awaiting, so the failure comes with the call)."""

    def lost(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("connection to the database lost")

    original = collection.find
    collection.find = lost
    try:
        yield
    finally:
        collection.find = original


@dataclass
class Call:
    """One call of a collection's method: its arguments, and for a `find` how many documents
    its cursor yielded."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    documents: int = 0


class _CountedCursor:
    def __init__(self, cursor: Any, call: Call) -> None:
        self.cursor, self.call = cursor, call

    def __aiter__(self) -> _CountedCursor:
        return self

    async def __anext__(self) -> Any:
        doc = await self.cursor.__anext__()
        self.call.documents += 1
        return doc

    async def to_list(self, length: int | None = None) -> list[Any]:
        docs = list(await self.cursor.to_list(length))
        self.call.documents += len(docs)
        return docs


@contextlib.contextmanager
def recording(collection: Any, method: str) -> Iterator[list[Call]]:
    """Records each call of `collection.method` and lets it through: which queries a pass
    made, with which limits, and (for `find`) how many documents it read."""
    original = getattr(collection, method)
    calls: list[Call] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        calls.append(call := Call(args, kwargs))
        answer = original(*args, **kwargs)  # a cursor, or the coroutine the caller awaits
        return _CountedCursor(answer, call) if method == "find" else answer

    setattr(collection, method, recorded)
    try:
        yield calls
    finally:
        setattr(collection, method, original)
