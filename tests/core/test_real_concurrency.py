"""Races that only a real server can stage: several processes, each with its own client and
connection pool, doing the same thing at the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from kith.core import leases
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Author, AuthorKind, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.web.app import BASE_FEATURES
from tests.support.callbacks import CallbackServer
from tests.support.cast import api_channel, inbound

pytestmark = pytest.mark.realdb


@pytest.fixture
async def processes(
    settings: Settings, clock: ManualClock, callbacks: CallbackServer, core: Core
) -> AsyncIterator[list[Core]]:
    """Four more `Core`s on the test database, as four Kith processes would have."""
    cores = [
        Core(
            store=Store.from_settings(settings),
            settings=settings,
            clock=clock,
            http=httpx.AsyncClient(transport=httpx.ASGITransport(app=callbacks)),
        )
        for _ in range(4)
    ]
    for process in cores:
        install(process, BASE_FEATURES)
    yield cores
    for other in cores:
        if not other.http.is_closed:
            await other.close()


async def test_processes_ingesting_one_message_at_once_store_it_once(
    core: Core, workspace_id: str, processes: list[Core]
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    delivery = inbound(channel, "ada", "same message, four processes", message_id="race-1")
    results = await asyncio.gather(
        *(ingest(p, channel, delivery) for p in processes for _ in range(5))
    )

    assert len({r.message.id for r in results}) == 1
    assert await core.store.messages.count_documents({"dedup_key": f"{channel.id}:race-1"}) == 1
    assert await core.store.events.count_documents({"type": "message.received"}) == 1
    assert await core.store.customers.count_documents({}) == 1
    assert await core.store.identities.count_documents({}) == 1


async def test_first_contacts_racing_make_one_customer(
    core: Core, workspace_id: str, processes: list[Core]
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    await asyncio.gather(
        *(
            ingest(p, channel, inbound(channel, "grace", f"hello {i}", message_id=f"g-{n}-{i}"))
            for n, p in enumerate(processes)
            for i in range(3)
        )
    )
    assert await core.store.customers.count_documents({}) == 1
    assert await core.store.conversations.count_documents({}) == 1
    [conversation] = await core.store.conversations.find({}).to_list(None)
    assert conversation["unread_count"] == 12


async def test_outbox_workers_in_four_processes_send_each_message_once(
    core: Core, workspace_id: str, processes: list[Core], callbacks: CallbackServer
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "hi"))
    agent = Author(kind=AuthorKind.agent, name="Sam")
    for i in range(40):
        await send(core, received.conversation, OutboundContent(text=f"reply {i}"), agent)

    handled = await asyncio.gather(
        *(OutboxWorker(p, owner=f"p{n}").run_once() for n, p in enumerate(processes))
    )

    assert sum(handled) == 40
    texts = [r.json()["message"]["text"] for r in callbacks.requests]
    assert len(texts) == 40 and len(set(texts)) == 40


async def test_lease_claims_racing_have_one_winner(core: Core, processes: list[Core]) -> None:
    won = await asyncio.gather(
        *(
            leases.acquire(p, "poll:channel-x", f"owner-{n}-{i}", 60)
            for n, p in enumerate(processes)
            for i in range(5)
        )
    )
    assert won.count(True) == 1
    assert await leases.holder(core, "poll:channel-x") is not None


async def test_a_worker_that_dies_holding_a_lease_is_replaced_after_it_expires(
    core: Core, processes: list[Core], clock: ManualClock
) -> None:
    dead, alive = processes[0], processes[1]
    assert await leases.acquire(dead, "poll:channel-y", "dead", 60)
    await dead.close()  # the process is gone; its lease is not released

    assert not await leases.acquire(alive, "poll:channel-y", "alive", 60)
    clock.advance(61)
    assert await leases.acquire(alive, "poll:channel-y", "alive", 60)
    assert await leases.holder(core, "poll:channel-y") == "alive"
