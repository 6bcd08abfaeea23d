"""CPU-heavy calls (password hashing) run in threads, a bounded number at a time.

Verifying an argon2 hash takes ~150 ms of CPU on purpose; on the event loop it would stall
every request of the process for that long. In a thread it does not (argon2-cffi releases
the GIL), and the bound keeps a burst of logins from taking every core.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# One semaphore per event loop: an asyncio primitive is bound to the loop that first waits on it.
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _gate(limit: int) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(limit)
    return gate


async def run_bounded(limit: int, fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` in a worker thread, with at most `limit` such calls running at once."""
    async with _gate(limit):
        return await asyncio.to_thread(fn, *args)
