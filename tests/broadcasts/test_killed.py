"""Workers killed at random while a broadcast sends: every customer gets exactly one message
and none is skipped (on the real engine, each worker its own client, as processes are)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kith.broadcasts.actions import do_create_broadcast, do_schedule, get_broadcast
from kith.broadcasts.audience import recipients
from kith.broadcasts.feature import feature
from kith.broadcasts.models import Broadcast, BroadcastIn, Status
from kith.broadcasts.worker import BroadcastWorker, message_id
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Author, AuthorKind
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.web.app import BASE_FEATURES

CUSTOMERS = 300
KILLS = 6


@pytest.fixture
async def processes(
    settings: Settings, clock: ManualClock, bcore: Core
) -> AsyncIterator[list[Core]]:
    """Eight processes' Cores on the database (sharing the embedded engine's store)."""
    cores = []
    for _ in range(8):
        store = bcore.store if bcore.store.embedded else Store.from_settings(settings)
        other = Core(store=store, settings=settings, clock=clock)
        install(other, [*BASE_FEATURES, feature(other)])
        cores.append(other)
    yield cores
    for other in cores:
        await other.http.aclose()
        if other.store is not bcore.store:
            await other.store.close()


async def finished(core: Core, broadcast: Broadcast) -> bool:
    current = await get_broadcast(core, broadcast.workspace_id, broadcast.id)
    return current.finished_at is not None


async def keep_sending(core: Core, stop: asyncio.Event) -> None:
    worker = BroadcastWorker(core)
    while not stop.is_set():
        if not await worker.run_once():
            await asyncio.sleep(0)


# A worker killed mid-operation abandons its database connection, as a killed process does.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_workers_killed_at_random_send_each_customer_exactly_once(
    bcore: Core,
    processes: list[Core],
    people: Callable[..., Any],
    clock: ManualClock,
) -> None:
    bcore.settings.broadcast_batch = 16
    bcore.settings.broadcast_outbox_window = 10 * CUSTOMERS  # no outbox runs here
    customers = await people(CUSTOMERS)
    body = BroadcastIn.model_validate(
        {
            "name": "Kill test",
            "customer_ids": [c.id for c in customers],
            "message": {"text": {"en": "Hi {{ customer.name }}"}},
            "channels": ["api"],
        }
    )
    marketer = Author(kind=AuthorKind.agent, id="m", name="M")
    made = await do_create_broadcast(bcore, customers[0].workspace_id, body, marketer)
    await do_schedule(bcore, made, marketer)

    rng = random.Random(15)  # noqa: S311 (which worker dies, not cryptography)
    stop = asyncio.Event()
    running = {asyncio.create_task(keep_sending(p, stop)) for p in processes[:3]}
    kills = 0
    while kills < KILLS and not await finished(bcore, made):
        await asyncio.sleep(rng.uniform(0.02, 0.2))
        victim = rng.choice(sorted(running, key=id))
        victim.cancel()  # SIGKILL: what it claimed stays leased until the lease runs out
        running.discard(victim)
        kills += 1
        running.add(asyncio.create_task(keep_sending(rng.choice(processes), stop)))
        clock.advance(bcore.settings.broadcast_lease_seconds + 1)
    for _ in range(600):  # the survivors finish (real time: at most about two minutes)
        if await finished(bcore, made):
            break
        await asyncio.sleep(0.2)
        clock.advance(bcore.settings.broadcast_lease_seconds / 4)  # dead claims come back
    stop.set()
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)

    done = await get_broadcast(bcore, made.workspace_id, made.id)
    assert kills >= 3
    assert done.status == Status.done
    sent = await bcore.store.messages.find({"purpose": "marketing"}, {"customer_id": 1}).to_list()
    assert len(sent) == CUSTOMERS
    assert {m["_id"] for m in sent} == {message_id(made.id, c.id) for c in customers}
    assert await recipients(bcore).count_documents({"status": {"$ne": "sent"}}) == 0
    assert (done.stats.targeted, done.stats.sent, done.stats.skipped) == (CUSTOMERS, CUSTOMERS, {})
