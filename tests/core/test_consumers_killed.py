"""Four workers on the real engine, killed at random while they consume 2,000 events: every
consumer's effect happens exactly once per event, none is lost."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

import pytest
from pymongo.errors import DuplicateKeyError

from kith.core.clock import ManualClock
from kith.core.consumers import Consumer, ConsumerWorker
from kith.core.context import Core
from kith.core.events import build_event
from kith.core.ids import derived_id
from kith.core.models import Event
from kith.core.settings import Settings
from kith.core.storage import Store

pytestmark = pytest.mark.realdb

EVENTS = 2_000
CONSUMERS = ("ledger", "mailer")


def effect(name: str):
    """A consumer whose effect is a document keyed by (event, consumer): the id a retried run
    derives again, as a bot derives its replies' ids."""

    async def handle(core: Core, event: Event) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await core.store.collection("effects").insert_one(
                {"_id": derived_id("effect", event.id, name), "event_id": event.id, "by": name}
            )
        await core.store.collection("runs").insert_one({"event_id": event.id, "by": name})

    return handle


@pytest.fixture
async def processes(settings: Settings, clock: ManualClock) -> AsyncIterator[list[Core]]:
    """Ten Kith processes' worth of Cores (each its own client): four run at a time, the
    rest replace those that are killed."""
    cores = []
    for _ in range(10):
        core = Core(store=Store.from_settings(settings), settings=settings, clock=clock)
        for name in CONSUMERS:
            core.consumers.add(Consumer(name, ("test.tick",), effect(name)))
        cores.append(core)
    yield cores
    for core in cores:
        await core.close()


# A worker killed mid-operation abandons its database connection, as a killed process does.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_four_workers_killed_at_random_handle_every_event_once(
    core: Core, processes: list[Core], workspace_id: str, clock: ManualClock
) -> None:
    writer = processes[0]
    docs = []
    for n in range(EVENTS):
        event = build_event(writer, workspace_id, "test.tick", data={"n": n})
        docs.append({**event.to_doc(), "pending": list(CONSUMERS)})
    await writer.store.events.insert_many(docs)

    rng = random.Random(7)  # noqa: S311 (which worker dies, not cryptography)
    stop = asyncio.Event()
    spare = iter(processes[4:])
    running = {
        asyncio.create_task(ConsumerWorker(p, batch_size=16, lease_seconds=30).run_forever(stop))
        for p in processes[:4]
    }
    kills = 0
    left = await _left(writer)
    for _ in range(600):
        if left == 0:
            break
        await asyncio.sleep(rng.uniform(0.05, 0.3))
        victim = rng.choice(sorted(running, key=id))
        victim.cancel()  # SIGKILL: whatever it held stays claimed until the lease runs out
        running.discard(victim)
        kills += 1
        replacement = next(spare, None) or rng.choice(processes)
        running.add(
            asyncio.create_task(
                ConsumerWorker(replacement, batch_size=16, lease_seconds=30).run_forever(stop)
            )
        )
        clock.advance(31)  # the dead worker's claims expire (so do slow live ones: fine)
        left = await _left(writer)
    stop.set()
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)

    assert kills >= 5
    assert await _left(writer) == 0
    for name in CONSUMERS:
        effects = await writer.store.collection("effects").distinct("event_id", {"by": name})
        assert len(effects) == EVENTS
        assert await writer.store.collection("effects").count_documents({"by": name}) == EVENTS
    runs = await writer.store.collection("runs").count_documents({})
    assert runs >= EVENTS * len(CONSUMERS)  # at least once; some were run again after a kill


async def _left(core: Core) -> int:
    return await core.store.events.count_documents({"pending.0": {"$exists": True}})
