"""Database faults at the network boundary: one call on a collection fails as if the
connection dropped, so tests can check that nothing is left half-written."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def failing(collection: Any, method: str, times: int = 1) -> Iterator[None]:
    original = getattr(collection, method)
    left = times

    async def broken(*args: Any, **kwargs: Any) -> Any:
        nonlocal left
        if left > 0:
            left -= 1
            raise ConnectionError("connection to the database lost")
        return await original(*args, **kwargs)

    setattr(collection, method, broken)
    try:
        yield
    finally:
        setattr(collection, method, original)
