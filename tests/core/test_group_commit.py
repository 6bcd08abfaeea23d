"""Group commit in ingest: concurrent messages share round trips, yet each caller is answered
as if it had written alone (dedup, its own errors, its writes stored when it returns)."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import WriteError

from kith.core.clock import ManualClock
from kith.core.collection import WRITE_CONFLICT
from kith.core.context import Core
from kith.core.models import InboundUser
from kith.core.pipeline import ingest
from kith.core.received import Received
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain
from tests.support.faults import conflicting, counting, failing, racing, refusing

BAD_VALUE = 2


def _message_id(request: object) -> str | None:
    doc = getattr(request, "_doc", None)
    return doc.get("channel_message_id") if isinstance(doc, dict) else None


async def test_concurrent_messages_share_round_trips_and_are_each_stored_once(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", "first contact"))
    deliveries = [inbound(channel, "ada", f"message {i}", message_id=f"c-{i}") for i in range(20)]

    with counting(core.store.messages, "bulk_write") as inserts:
        results = await asyncio.gather(*(ingest(core, channel, d) for d in deliveries))

    assert sum(inserts) == 20 and len(inserts) < 10  # batches, not one insert per message
    assert not any(r.duplicate for r in results)
    assert await core.store.messages.count_documents({"channel_id": channel.id}) == 21
    assert await core.store.events.count_documents({"type": "message.received"}) == 21
    stored = await core.store.conversations.find_one({"_id": results[0].conversation.id})
    assert stored is not None and stored["unread_count"] == 21


async def test_duplicates_arriving_together_are_stored_once_and_answered_with_the_stored_message(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", "hello"))
    same = inbound(channel, "ada", "sent twice by the platform", message_id="wamid.7")
    others = [inbound(channel, "ada", f"other {i}", message_id=f"o-{i}") for i in range(4)]

    with counting(core.store.messages, "bulk_write") as inserts:
        results = await asyncio.gather(*(ingest(core, channel, d) for d in [same, *others, same]))

    # The copy waits for the next batch: one dedup key per command (kith.core.group_commit).
    assert inserts[:2] == [5, 1]
    first, last = results[0], results[-1]
    assert first.message.id == last.message.id
    assert [first.duplicate, last.duplicate] == [False, True]
    assert await core.store.messages.count_documents({"channel_message_id": "wamid.7"}) == 1
    events = await core.store.events.count_documents({"message_id": first.message.id})
    assert events == 1


async def test_a_write_refused_in_a_batch_fails_only_its_caller(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", "hello"))
    deliveries = [inbound(channel, "ada", f"m {i}", message_id=f"b-{i}") for i in range(5)]

    with refusing(core.store.messages, lambda r: _message_id(r) == "b-2", BAD_VALUE) as refused:
        results = await asyncio.gather(
            *(ingest(core, channel, d) for d in deliveries), return_exceptions=True
        )

    assert len(refused) == 1
    assert isinstance(results[2], WriteError) and results[2].code == BAD_VALUE
    stored = [r for r in results if isinstance(r, Received)]
    assert [r.message.channel_message_id for r in stored] == ["b-0", "b-1", "b-3", "b-4"]
    assert await core.store.messages.count_documents({"channel_message_id": "b-2"}) == 0
    for received in stored:
        assert await core.store.events.count_documents({"message_id": received.message.id}) == 1


async def test_a_write_conflict_on_one_request_of_a_batch_is_run_again(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", "hello"))
    deliveries = [inbound(channel, "ada", f"m {i}", message_id=f"w-{i}") for i in range(4)]

    with refusing(core.store.messages, lambda r: _message_id(r) == "w-1", WRITE_CONFLICT):
        results = await asyncio.gather(*(ingest(core, channel, d) for d in deliveries))

    assert [r.message.channel_message_id for r in results] == ["w-0", "w-1", "w-2", "w-3"]
    assert await core.store.messages.count_documents({"channel_message_id": {"$regex": "^w-"}}) == 4


async def test_a_batch_refused_whole_with_a_write_conflict_is_run_again(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    deliveries = [inbound(channel, "grace", f"m {i}", message_id=f"x-{i}") for i in range(3)]

    with conflicting(core.store.conversations, "bulk_write", times=2):
        results = await asyncio.gather(*(ingest(core, channel, d) for d in deliveries))

    assert sum(r.new_conversation for r in results) == 1
    stored = await core.store.conversations.find_one({"_id": results[0].conversation.id})
    assert stored is not None and stored["unread_count"] == 3


async def test_a_lost_batch_fails_every_caller_in_it_and_redeliveries_finish_the_job(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    """The connection drops while a batch of events is written: no caller is told its message
    is stored, and redeliveries once the ingest lease has expired complete each one once."""
    channel, _ = await api_channel(core, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", "hello"))
    deliveries = [inbound(channel, "ada", f"m {i}", message_id=f"l-{i}") for i in range(3)]

    with failing(core.store.events, "bulk_write"):
        lost = await asyncio.gather(
            *(ingest(core, channel, d) for d in deliveries), return_exceptions=True
        )
    assert all(isinstance(r, ConnectionError) for r in lost)

    clock.advance(31)
    finished = await asyncio.gather(*(ingest(core, channel, d) for d in deliveries))

    assert all(r.duplicate is False for r in finished)
    ids = [r.message.id for r in finished]
    assert await core.store.events.count_documents({"message_id": {"$in": ids}}) == 3
    stored = await core.store.conversations.find_one({"_id": finished[0].conversation.id})
    assert stored is not None


@pytest.mark.parametrize("status", ["resolved", "pending"])
async def test_a_conversation_changed_after_it_was_read_is_bumped_as_found(
    core: Core, workspace_id: str, status: str
) -> None:
    """Ingest reads the conversation, then bumps it on condition that it is still as read; an
    agent's change in between sends the bump down the general path, which sees it."""
    channel, _ = await api_channel(core, workspace_id)
    first = await ingest(core, channel, inbound(channel, "ada", "hello"))
    conversations = core.store.conversations

    async def agent_changes_it() -> None:
        await conversations.update_one({"_id": first.conversation.id}, {"$set": {"status": status}})

    with racing(conversations, "bulk_write", agent_changes_it):
        again = await ingest(core, channel, inbound(channel, "ada", "still there?"))

    assert again.reopened is (status == "resolved")
    assert again.conversation.status == ("pending" if status == "pending" else "open")
    stored = await conversations.find_one({"_id": first.conversation.id})
    assert stored is not None and stored["unread_count"] == 2
    assert stored["status"] == again.conversation.status


async def test_concurrent_messages_add_their_search_terms_together_once_each(
    core: Core, workspace_id: str
) -> None:
    """Terms are a set: words said again are not stored again, and the terms of messages
    indexed together (the search consumer runs conversations side by side) go out in shared
    round trips."""
    channel, _ = await api_channel(core, workspace_id)
    customers = [InboundUser(id=f"c{n}", name=f"customer{n}") for n in range(8)]
    first = [
        await ingest(core, channel, inbound(channel, text="kettle", user=c)) for c in customers
    ]
    await drain(core)
    for n, customer in enumerate(customers):
        await ingest(core, channel, inbound(channel, text=f"kettle lid number{n}", user=customer))
    with counting(core.store.conversation_terms, "bulk_write") as sizes:
        await drain(core)
    assert len(sizes) < len(customers)
    for n, received in enumerate(first):
        terms = core.store.conversation_terms.find({"conversation_id": received.conversation.id})
        stored = [doc["term"] async for doc in terms]
        assert len(stored) == len(set(stored))
        assert {"kettle", "lid", f"customer{n}", f"number{n}"} <= set(stored)


async def test_a_term_refused_with_a_write_conflict_goes_again(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    refused_term = lambda request: request._doc["term"] == "descaling"  # noqa: E731
    received = await ingest(core, channel, inbound(channel, "ada", "descaling the kettle"))
    with refusing(core.store.conversation_terms, refused_term, WRITE_CONFLICT) as refused:
        await drain(core)
    assert len(refused) == 1
    terms = core.store.conversation_terms.find({"conversation_id": received.conversation.id})
    assert {"descaling", "kettle"} <= {doc["term"] async for doc in terms}


async def test_a_term_refused_otherwise_is_indexed_when_the_consumer_tries_again(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "descaling the kettle"))
    refused_term = lambda request: request._doc["term"] == "descaling"  # noqa: E731
    with refusing(core.store.conversation_terms, refused_term, BAD_VALUE):
        await drain(core)
    terms = core.store.conversation_terms.find({"conversation_id": received.conversation.id})
    assert "descaling" not in {doc["term"] async for doc in terms}
    clock.advance(5)  # past the consumer's first backoff
    await drain(core)
    terms = core.store.conversation_terms.find({"conversation_id": received.conversation.id})
    assert {"descaling", "kettle"} <= {doc["term"] async for doc in terms}
