"""The inbound pipeline: dedup, identities, conversations, and the event consumers see."""

from __future__ import annotations

import asyncio

import pytest

from kith.core.clock import ManualClock, ScaledClock
from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.conversations import do_update_conversation, get_conversation
from kith.core.models import ConversationStatus, Event, InboundUser
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain, recorder
from tests.support.faults import failing


async def test_first_message_creates_customer_identity_conversation_and_event(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "Where is my order?"))

    assert received.new_customer and received.new_conversation and not received.duplicate
    customer = await core.store.customers.find_one({"_id": received.message.customer_id})
    assert customer["name"] == "Ada Lovelace"
    assert customer["emails"] == ["ada@example.com"]
    assert customer["identities"] == [{"channel_id": channel.id, "external_id": "u-ada"}]
    conversation = await get_conversation(core, workspace_id, received.conversation.id)
    assert conversation.status == ConversationStatus.open
    assert conversation.unread_count == 1
    assert conversation.external_user_id == "u-ada"
    events = await core.store.events.find({"message_id": received.message.id}).to_list(None)
    assert [e["type"] for e in events] == ["message.received"]


async def test_twenty_concurrent_deliveries_store_one_message_one_event_one_consumer_run(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    seen = recorder(core)
    delivery = inbound(channel, "ada", "only once please", message_id="wamid.42")
    results = await asyncio.gather(*(ingest(core, channel, delivery) for _ in range(20)))

    assert len({r.message.id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert await core.store.messages.count_documents({"channel_id": channel.id}) == 1
    assert await core.store.events.count_documents({"type": "message.received"}) == 1
    await drain(core)
    assert [e.message_id for e in seen] == [results[0].message.id]
    conversation = await get_conversation(core, workspace_id, results[0].conversation.id)
    assert conversation.unread_count == 1


async def test_same_user_same_channel_is_one_customer_and_one_conversation(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    first = await ingest(core, channel, inbound(channel, "grace", "one"))
    second = await ingest(core, channel, inbound(channel, "grace", "two"))

    assert second.message.customer_id == first.message.customer_id
    assert second.conversation.id == first.conversation.id
    assert not second.new_customer and not second.new_conversation
    assert second.conversation.unread_count == 2


async def test_identities_are_per_channel_and_threads_split_conversations(
    core: Core, workspace_id: str
) -> None:
    web, _ = await api_channel(core, workspace_id, "Web")
    app, _ = await api_channel(core, workspace_id, "App")
    on_web = await ingest(core, web, inbound(web, "ada"))
    on_app = await ingest(core, app, inbound(app, "ada"))
    thread = await ingest(core, web, inbound(web, "ada", thread="order-17"))

    assert on_app.message.customer_id != on_web.message.customer_id
    assert await core.store.identities.count_documents({"external_id": "u-ada"}) == 2
    assert thread.message.customer_id == on_web.message.customer_id
    assert thread.conversation.id != on_web.conversation.id


async def test_new_inbound_message_reopens_a_resolved_conversation(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    first = await ingest(core, channel, inbound(channel, "ada", "help"))
    await do_update_conversation(core, first.conversation, status=ConversationStatus.resolved)

    again = await ingest(core, channel, inbound(channel, "ada", "it broke again"))

    assert again.reopened and not again.new_conversation
    stored = await get_conversation(core, workspace_id, first.conversation.id)
    assert stored.status == ConversationStatus.open
    assert stored.unread_count == 1


async def test_pending_conversation_stays_pending_on_new_message(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    first = await ingest(core, channel, inbound(channel, "ada", "hi bot"))
    await do_update_conversation(core, first.conversation, status=ConversationStatus.pending)

    again = await ingest(core, channel, inbound(channel, "ada", "still there?"))

    assert again.conversation.status == ConversationStatus.pending
    stored = await get_conversation(core, workspace_id, first.conversation.id)
    assert stored.status == ConversationStatus.pending
    assert stored.unread_count == 2


async def test_a_failing_consumer_breaks_neither_ingest_nor_other_consumers(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)

    async def broken(core: Core, event: Event) -> None:
        raise RuntimeError("boom")

    core.consumers.add(Consumer("broken", ("message.received",), broken))
    seen = recorder(core)
    received = await ingest(core, channel, inbound(channel, "ada", "still stored"))
    await drain(core)

    assert [e.message_id for e in seen] == [received.message.id]
    assert await core.store.messages.count_documents({"_id": received.message.id}) == 1


async def test_redelivery_after_a_crash_mid_ingest_finishes_the_job(
    core: Core, workspace_id: str, clock
) -> None:
    """A process that died after storing the message but before its event: the redelivery
    (once the ingest lease has expired) completes the conversation and the event."""
    channel, _ = await api_channel(core, workspace_id)
    seen = recorder(core)

    delivery = inbound(channel, "ada", "interrupted", message_id="crash-1")
    with failing(core.store.events, "bulk_write"), pytest.raises(ConnectionError):
        await ingest(core, channel, delivery)

    early = await ingest(core, channel, delivery)  # lease still held: no side effects yet
    await drain(core)
    assert early.duplicate and seen == []
    clock.advance(31)
    finished = await ingest(core, channel, delivery)
    await drain(core)

    assert [e.message_id for e in seen] == [finished.message.id]
    assert await core.store.messages.count_documents({}) == 1
    assert await core.store.events.count_documents({"type": "message.received"}) == 1


async def test_the_ingest_lease_lasts_real_seconds_on_the_demos_fast_clock(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    """At an hour a second, a lease read on Kith's clock lasted 8 ms: a redelivery arriving
    while the first attempt was still at work took it over and ran its side effects again
    (and both answered "not a duplicate")."""
    channel, _ = await api_channel(core, workspace_id)
    seen = recorder(core)
    delivery = inbound(channel, "ada", "interrupted", message_id="crash-2")
    with failing(core.store.events, "bulk_write"), pytest.raises(ConnectionError):
        await ingest(core, channel, delivery)
    ticks = [0.0]
    core.clock = ScaledClock(3600, base=clock, monotonic=lambda: ticks[0])
    ticks[0] += 1  # an hour of demo time, one real second
    early = await ingest(core, channel, delivery)
    await drain(core)
    assert early.duplicate and seen == []
    clock.advance(31)  # the lease's half-minute, for real
    finished = await ingest(core, channel, delivery)
    await drain(core)
    assert not finished.duplicate and [e.message_id for e in seen] == [finished.message.id]


async def test_customer_profile_recreated_if_first_contact_was_interrupted(
    core: Core, workspace_id: str
) -> None:
    """The identity was written, then the database connection dropped before the profile:
    the next message from that person completes the profile."""
    channel, _ = await api_channel(core, workspace_id)
    with failing(core.store.customers, "bulk_write"):
        with pytest.raises(ConnectionError):
            await ingest(core, channel, inbound(channel, "li", "你好"))
    assert await core.store.customers.count_documents({}) == 0

    again = await ingest(core, channel, inbound(channel, "li", "在吗"))

    customer = await core.store.customers.find_one({"_id": again.message.customer_id})
    assert customer is not None and customer["workspace_id"] == workspace_id


async def test_user_ids_with_operator_characters_are_plain_data(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    odd = InboundUser(id="$gt", name="{'$ne': null}")
    first = await ingest(core, channel, inbound(channel, user=odd, text="x"))
    other = await ingest(core, channel, inbound(channel, "ada", "y"))
    assert first.message.customer_id != other.message.customer_id
