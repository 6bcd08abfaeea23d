"""Driving event consumers in tests: the worker of `kith serve`, run until nothing is left."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kith.core.consumers import Consumer, ConsumerWorker
from kith.core.context import Core
from kith.core.models import Event


async def drain(core: Core) -> int:
    """Handle every event pending now, as the background worker would (one pass at a time)."""
    return await ConsumerWorker(core).drain()


def recorder(
    core: Core, types: Sequence[str] = ("message.received",), name: str = "test-recorder"
) -> list[Event]:
    """A consumer that keeps the events it is handed, in order."""
    seen: list[Event] = []

    async def handle(core: Core, event: Event) -> None:
        seen.append(event)

    core.consumers.add(Consumer(name, tuple(types), handle))
    return seen


async def indexed(core: Core) -> int:
    """Run the search consumer alone until nothing is pending for it, as `kith serve` does a
    moment after each ingest (other consumers' effects, such as bot replies, left out)."""
    search = core.consumers.get("search")
    assert search is not None, "the search feature is installed"
    worker, total = ConsumerWorker(core), 0
    while handled := await worker.run_consumer(search):
        total += handled
    return total


async def caught_up(core: Core, consumer: str = "search", within: float = 15.0) -> None:
    """Wait until the running server's worker has handled every event pending for `consumer`
    (asked every 50 ms): a test searching right after an ingest, under a loaded machine, would
    otherwise search before the words are indexed."""
    deadline = asyncio.get_running_loop().time() + within
    while await core.store.events.count_documents({"pending": consumer}):
        assert asyncio.get_running_loop().time() < deadline, f"{consumer} still has events pending"
        await asyncio.sleep(0.05)
