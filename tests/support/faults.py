"""Database faults at the network boundary: one call on a collection fails as if the
connection dropped, so tests can check that nothing is left half-written; or another client's
work lands just before a call, to check what a race leaves behind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from pymongo.errors import OperationFailure

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


class Frozen:
    """Set once a call has frozen: the moment to kill the process that made it."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()


@contextlib.contextmanager
def freezing(collection: Any, method: str, after: int = 0) -> Iterator[Frozen]:
    """The first `after` calls of `collection.method` go through; the next one never returns,
    as when the process making it is killed right there (cancel its task)."""
    original = getattr(collection, method)
    frozen = Frozen()
    passed = 0

    async def intercepted(*args: Any, **kwargs: Any) -> Any:
        nonlocal passed
        if passed < after:
            passed += 1
            return await original(*args, **kwargs)
        frozen.reached.set()
        await asyncio.Event().wait()

    setattr(collection, method, intercepted)
    try:
        yield frozen
    finally:
        setattr(collection, method, original)
