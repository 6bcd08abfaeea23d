"""A background worker's idle wait: woken by new work or by shutdown, else it looks again on
its own after a while (work may come from another process, which cannot set our events)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def wait_any(events: Iterable[asyncio.Event], at_most: float) -> None:
    """Return as soon as one of `events` is set, or after `at_most` seconds."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
