"""The outbox's grouped outcome writes: each outcome stored once with its event, only under
this worker's lease, and a failed write loses no message."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Author, AuthorKind, Conversation, InboundUser, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.web.app import BASE_FEATURES
from tests.support.callbacks import CallbackServer
from tests.support.cast import api_channel, inbound

AGENT = Author(kind=AuthorKind.agent, id="agent-1", name="Sam")


async def _conversations(core: Core, workspace_id: str, n: int) -> list[Conversation]:
    channel, _ = await api_channel(core, workspace_id)
    return [
        (await ingest(core, channel, inbound(channel, user=InboundUser(id=f"u-{i}")))).conversation
        for i in range(n)
    ]


async def _events(core: Core, event_type: str) -> list[str]:
    return [doc["message_id"] async for doc in core.store.events.find({"type": event_type})]


async def test_many_sends_ending_together_are_each_recorded_once_with_their_event(
    core: Core, workspace_id: str, callbacks: CallbackServer
) -> None:
    conversations = await _conversations(core, workspace_id, 12)
    sent = [
        await send(core, c, OutboundContent(text=f"reply {i}.{j}"), AGENT)
        for j in range(2)
        for i, c in enumerate(conversations)
    ]

    assert await OutboxWorker(core).run_once() == len(sent)

    assert sorted(await _events(core, "message.delivered")) == sorted(m.id for m in sent)
    async for doc in core.store.messages.find({"direction": "out"}):
        assert doc["delivery"]["status"] == "sent"
        assert "lease_owner" not in doc["delivery"] and "lease_until" not in doc["delivery"]
    assert len(callbacks.requests) == len(sent)


async def test_a_group_stores_only_the_outcomes_whose_lease_this_worker_still_holds(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    conversations = await _conversations(core, workspace_id, 3)
    for c in conversations:
        await send(core, c, OutboundContent(text="hello"), AGENT)
    late = OutboxWorker(core, owner="late")
    claimed = [await late.claim() for _ in conversations]
    assert all(claimed)
    clock.advance(core.settings.outbox_lease_seconds + 1)  # the late worker's leases run out
    taken = await OutboxWorker(core, owner="next").claim()
    assert taken is not None

    # The three outcomes end together: one group, one of them no longer this worker's.
    await asyncio.gather(
        *(late._mark(m, {"delivery.status": "sent"}, "message.delivered") for m in claimed if m)
    )

    kept = sorted(m.id for m in claimed if m and m.id != taken.id)
    assert sorted(await _events(core, "message.delivered")) == kept
    stolen = await core.store.messages.find_one({"_id": taken.id})
    assert stolen["delivery"]["status"] == "pending"
    assert stolen["delivery"]["lease_owner"] == "next"


@pytest.mark.realdb
async def test_an_outcome_write_that_fails_leaves_the_message_to_be_sent_again(
    core: Core,
    workspace_id: str,
    settings: Settings,
    clock: ManualClock,
    callbacks: CallbackServer,
) -> None:
    [conversation] = await _conversations(core, workspace_id, 1)
    message = await send(core, conversation, OutboundContent(text="once more"), AGENT)
    dying = Core(
        store=Store.from_settings(settings),
        settings=settings,
        clock=clock,
        http=httpx.AsyncClient(transport=httpx.ASGITransport(app=callbacks)),
    )
    install(dying, BASE_FEATURES)
    worker = OutboxWorker(dying, owner="dying")
    claimed = await worker.claim()
    assert claimed is not None
    await worker.channels.get(claimed.channel_id)
    await dying.store.close()  # its database goes away between the post and the outcome

    with pytest.raises(Exception):  # noqa: B017 (whatever the driver raises)
        await worker.deliver(claimed, conversation)
    await dying.http.aclose()

    assert len(callbacks.requests) == 1  # posted, but not recorded: still pending, leased
    stored = await core.store.messages.find_one({"_id": message.id})
    assert stored["delivery"]["status"] == "pending"
    assert await _events(core, "message.delivered") == []

    clock.advance(core.settings.outbox_lease_seconds + 1)
    assert await OutboxWorker(core).run_once() == 1
    assert len(callbacks.requests) == 2  # sent again (the documented crash window), not lost
    assert await _events(core, "message.delivered") == [message.id]
