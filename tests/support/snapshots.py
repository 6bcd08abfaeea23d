"""A seed run once per test process, its database copied into each later test's.

The community pages' seed feeds the demo group (86 members) through the webhook's path with
its consumers: 15-25 s a test on the real engine, for the same documents every time. The
first test that asks runs the seed and keeps every collection's documents; the next ones get
a copy of them written into their own fresh database, each as if it had seeded itself.
Only what a seed leaves in the database is kept (and a manual clock's time): a seed that also
changes the core (a recording platform, a clock) does that part in its `prepare`, which
runs before every test's seed or copy.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kith.core.clock import ManualClock
from kith.core.context import Core

Seed = Callable[[Core], Awaitable[None]]


@dataclass(frozen=True)
class Snapshot:
    collections: dict[str, list[dict[str, Any]]]
    clock: datetime | None  # the manual clock's time when the seed ended


_TAKEN: dict[str, Snapshot] = {}


def key_of(seed: Callable[..., object]) -> str:
    return f"{seed.__module__}.{seed.__qualname__}"


async def seed_once(core: Core, seed: Seed, key: str) -> None:
    """`seed` on `core`'s fresh database the first time `key` is asked for in this process;
    later, a copy of what it stored then."""
    taken = _TAKEN.get(key)
    if taken is None:
        await seed(core)
        _TAKEN[key] = await _take(core)
    else:
        await _write(core, taken)


async def _take(core: Core) -> Snapshot:
    db = core.store.db
    collections = {
        name: copy.deepcopy(await db[name].find({}).to_list(None))
        for name in await db.list_collection_names()
    }
    clock = core.clock.now() if isinstance(core.clock, ManualClock) else None
    return Snapshot(collections, clock)


async def _write(core: Core, taken: Snapshot) -> None:
    """Each collection made to hold exactly the snapshot's documents (the core's start may
    have written some of them already); fresh copies, so no test changes the snapshot."""
    db = core.store.db
    for name in {*await db.list_collection_names(), *taken.collections}:
        await db[name].delete_many({})
        if docs := taken.collections.get(name):
            await db[name].insert_many(copy.deepcopy(docs))
    if taken.clock is not None and isinstance(core.clock, ManualClock):
        core.clock.advance((taken.clock - core.clock.now()).total_seconds())
