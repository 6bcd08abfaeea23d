"""Edits, deletions, channel events, leases, shared rate limits and the poller supervisor."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from kith.core import leases, ratelimit
from kith.core.channel_records import create_channel, get_channel
from kith.core.channels import SendResult
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.errors import DeliveryDeferred
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    ChannelEvent,
    ChannelEventKind,
    InboundUser,
    OutboundContent,
)
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import channel_event_of, ingest, ingest_delete, ingest_edit, ingest_event
from kith.core.pollers import PollerSupervisor
from kith.core.threads import conversation_id
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain, recorder


async def test_edit_keeps_history_and_a_redelivered_edit_changes_nothing(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "teh order", message_id="e1"))

    edited = await ingest_edit(core, channel, "e1", "the order")
    again = await ingest_edit(core, channel, "e1", "the order")

    assert edited is not None and edited.text == "the order" and again is None
    stored = await core.store.messages.find_one({"_id": received.message.id})
    assert stored["text"] == "the order"
    assert [e["text"] for e in stored["edits"]] == ["teh order"]
    assert await core.store.events.count_documents({"type": "message.edited"}) == 1
    assert await ingest_edit(core, channel, "unknown", "x") is None


async def test_delete_marks_the_message_once(core: Core, workspace_id: str) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "oops", message_id="d1"))
    assert await ingest_delete(core, channel, "d1")
    assert not await ingest_delete(core, channel, "d1")
    stored = await core.store.messages.find_one({"_id": received.message.id})
    assert stored["deleted"] is True


async def test_channel_event_is_recorded_once_and_consumed_once(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    seen = recorder(core, ["channel.*"])
    event = ChannelEvent(
        workspace_id=workspace_id,
        channel_id=channel.id,
        channel_type="api",
        event_id="join-1",
        kind=ChannelEventKind.member_joined,
        user=InboundUser(id="u-new", name="Nova"),
        thread_key="g-1",
        group_id="g-1",
        group_name="Fans",
    )
    assert await ingest_event(core, channel, event)
    assert not await ingest_event(core, channel, event)
    await drain(core)

    [logged] = seen
    assert logged.type == "channel.member_joined" and logged.customer_id
    assert channel_event_of(logged) == event
    assert logged.conversation_id == conversation_id(workspace_id, channel.id, "g-1")


async def test_leases_exclude_others_until_released_or_expired(
    core: Core, clock: ManualClock
) -> None:
    assert await leases.acquire(core, "job", "a", 30)
    assert await leases.acquire(core, "job", "a", 30)  # renewal
    assert not await leases.acquire(core, "job", "b", 30)
    await leases.release(core, "job", "a")
    assert await leases.acquire(core, "job", "b", 30)
    clock.advance(31)
    assert await leases.holder(core, "job") is None
    assert await leases.acquire(core, "job", "c", 30)


async def test_shared_rate_limit_counts_across_callers_per_window(
    core: Core, clock: ManualClock
) -> None:
    waits = [await ratelimit.reserve(core, "bot:1", 3, 1.0) for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(0 < w <= 1.0 for w in waits[3:])
    clock.advance(1.0)
    assert await ratelimit.reserve(core, "bot:1", 3, 1.0) == 0.0
    assert await ratelimit.reserve_all(core, [("a", 1, 60.0), ("b", 1, 1.0)]) == 0.0
    assert await ratelimit.reserve_all(core, [("a", 1, 60.0), ("b", 5, 1.0)]) > 1.0


class _Throttled:
    """A sender whose platform allows one message per second per chat."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, core: Core, channel: Channel, conversation, message) -> SendResult:
        wait = await ratelimit.reserve(core, f"chat:{conversation.id}", 1, 1.0)
        if wait:
            raise DeliveryDeferred(wait)
        self.sent.append(message.text)
        return SendResult(channel_message_id=message.id)


async def test_rate_limited_sends_are_deferred_not_failed(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    sender = _Throttled()
    core.channels.register(replace(core.channels.get("api"), name="throttled", sender=sender))
    channel, _ = await create_channel(core, workspace_id, "throttled", "Throttled", {})
    received = await ingest(core, channel, inbound(channel, "ada", "hi"))
    agent = Author(kind=AuthorKind.agent, name="Sam")
    for text in ("one", "two", "three"):
        await send(core, received.conversation, OutboundContent(text=text), agent)
    worker = OutboxWorker(core)

    for _ in range(3):
        await worker.run_once()
        clock.advance(1.0)

    assert sender.sent == ["one", "two", "three"]
    docs = await core.store.messages.find({"direction": "out"}).to_list(None)
    assert all(d["delivery"]["attempts"] == 0 and d["delivery"]["status"] == "sent" for d in docs)


class _CountingPoller:
    def __init__(self) -> None:
        self.polls: list[str] = []
        self.polled = asyncio.Event()
        self.gate = asyncio.Event()

    def wants_polling(self, channel: Channel) -> bool:
        return True

    async def poll_once(self, core: Core, channel: Channel) -> float:
        self.polls.append(channel.id)
        self.polled.set()
        await self.gate.wait()
        return 0.0


async def test_two_supervisors_one_poller_per_channel(core: Core, workspace_id: str) -> None:
    poller = _CountingPoller()
    core.channels.register(replace(core.channels.get("api"), name="polled", poller=poller))
    channel, _ = await create_channel(core, workspace_id, "polled", "Polled", {})
    first, second = PollerSupervisor(core, owner="one"), PollerSupervisor(core, owner="two")

    assert await first.claim_round() == [channel.id]
    assert await second.claim_round() == []
    await asyncio.wait_for(poller.polled.wait(), 30)  # the polling task reads its channel first
    assert poller.polls == [channel.id]
    for task in first.tasks.values():
        task.cancel()
    await asyncio.gather(*first.tasks.values(), return_exceptions=True)
    assert await leases.holder(core, PollerSupervisor.lease_name(channel)) is None
    assert await second.claim_round() == [channel.id]
    for task in second.tasks.values():
        task.cancel()
    await asyncio.gather(*second.tasks.values(), return_exceptions=True)


@pytest.mark.parametrize("seconds", [0.5, 2.0])
async def test_rate_limit_waits_never_exceed_the_window(core: Core, seconds: float) -> None:
    for _ in range(3):
        wait = await ratelimit.reserve(core, "k", 1, seconds)
        assert 0 <= wait <= seconds


async def test_a_channel_whose_config_no_longer_validates_does_not_stop_polling(
    core: Core, workspace_id: str
) -> None:
    poller = _CountingPoller()
    core.channels.register(replace(core.channels.get("api"), name="polled", poller=poller))
    broken, _ = await create_channel(core, workspace_id, "polled", "Broken", {})
    healthy, _ = await create_channel(core, workspace_id, "polled", "Healthy", {})
    await core.store.channels.update_one(
        {"_id": broken.id}, {"$set": {"config.callback_url": "not a url"}}
    )
    supervisor = PollerSupervisor(core, owner="one")

    assert sorted(await supervisor.claim_round()) == sorted([broken.id, healthy.id])
    await asyncio.wait_for(poller.polled.wait(), 30)
    for task in supervisor.tasks.values():
        task.cancel()
    await asyncio.gather(*supervisor.tasks.values(), return_exceptions=True)
    assert poller.polls == [healthy.id]  # the broken one is never handed to its poller


async def test_a_channel_invalid_from_the_start_says_why_on_the_channel(
    core: Core, workspace_id: str
) -> None:
    poller = _CountingPoller()
    core.channels.register(replace(core.channels.get("api"), name="polled", poller=poller))
    broken, _ = await create_channel(core, workspace_id, "polled", "Broken", {})
    await core.store.channels.update_one(
        {"_id": broken.id}, {"$set": {"config.callback_url": "not a url"}}
    )
    supervisor = PollerSupervisor(core, owner="one")
    (channel, found_poller), *others = await supervisor.polled_channels()
    assert others == [] and channel.id == broken.id

    wait = await supervisor.poll(channel, found_poller)

    stored = await get_channel(core, None, broken.id, strict=False)
    assert stored.poll is not None
    assert (stored.poll.reason, stored.poll.failures) == ("config_invalid", 1)
    assert stored.poll.error and "callback_url" in stored.poll.error
    assert wait == supervisor.first_retry and poller.polls == []
