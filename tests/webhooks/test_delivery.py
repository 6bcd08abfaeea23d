"""Events reach a subscriber's endpoint signed as Standard Webhooks says, verified here with
the standardwebhooks library on a real loopback server; retries back off on the clock; a
delivery is written once and sent by one worker at a time; a killed worker's is picked up."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from kith.core.clock import ManualClock
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.conversations import do_update_conversation
from kith.core.events import build_event, record
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    ConversationStatus,
    Event,
    OutboundContent,
)
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.webhooks.actions import do_redeliver, do_update_endpoint
from kith.webhooks.consumer import consume
from kith.webhooks.feature import feature
from kith.webhooks.models import (
    ENDPOINT_DISABLED,
    KEEP_DELIVERIES,
    REPLAY_ON_ENABLE,
    Delivery,
    DeliveryStatus,
    EndpointPatch,
)
from kith.webhooks.store import DELIVERIES, deliveries, endpoints, get_delivery
from kith.webhooks.worker import RETRY_DELAYS, DeliveryWorker
from tests.support.cast import inbound
from tests.webhooks.conftest import Receiver, _receiver, subscribe

AGENT = Author(kind=AuthorKind.agent, id="u-1", name="Agent")


async def deliver(core: Core) -> int:
    """Run the consumers, then a delivery worker until nothing is due."""
    await ConsumerWorker(core).drain()
    return await DeliveryWorker(core).drain()


def verified(secret: str, request: object) -> dict[str, object]:
    headers = request.headers  # type: ignore[attr-defined]
    body = request.body  # type: ignore[attr-defined]
    return Webhook(secret).verify(body, headers)  # type: ignore[no-any-return]


async def only_delivery(core: Core) -> Delivery:
    [doc] = await deliveries(core).find({}).to_list(None)
    return Delivery.from_doc(doc)


async def test_messages_both_ways_arrive_signed_and_verifiable(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver
) -> None:
    _, secret = await subscribe(hooked, workspace_id, receiver.url, "message.created")
    received = await ingest(hooked, channel, inbound(channel, "ada", "Where is my parcel? 包裹"))
    await send(hooked, received.conversation, OutboundContent(text="On its way"), AGENT)
    await send(hooked, received.conversation, OutboundContent(text="vip", private=True), AGENT)
    assert await deliver(hooked) == 2  # the private note is no message to the customer
    bodies = sorted((verified(secret, r) for r in receiver.requests), key=lambda b: str(b))
    inbound_, outbound = sorted(bodies, key=lambda b: b["data"]["direction"])  # type: ignore[index]
    assert inbound_["type"] == "message.created"
    assert inbound_["data"] == {
        "message_id": received.message.id,
        "conversation_id": received.conversation.id,
        "customer_id": received.conversation.customer_id,
        "channel_id": channel.id,
        "direction": "inbound",
        "author": {"kind": "customer", "id": inbound_["data"]["author"]["id"]},  # type: ignore[index]
        "text": "Where is my parcel? 包裹",
        "attachments": [],
        "created_at": inbound_["data"]["created_at"],  # type: ignore[index]
    }
    assert outbound["data"]["text"] == "On its way"  # type: ignore[index]
    assert outbound["data"]["author"] == {"kind": "agent", "id": "u-1"}  # type: ignore[index]
    stored = {d["_id"] async for d in deliveries(hooked).find({})}
    assert {r.headers["webhook-id"] for r in receiver.requests} == stored
    assert all(r.path == "/hooks/kith" for r in receiver.requests)


async def test_other_events_map_to_the_public_catalogue(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver
) -> None:
    _, secret = await subscribe(
        hooked,
        workspace_id,
        receiver.url,
        "customer.created",
        "conversation.resolved",
        "ticket.created",
        "order.updated",
    )
    received = await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await do_update_conversation(
        hooked, received.conversation, status=ConversationStatus.resolved, actor=AGENT
    )
    for kind, data in (
        ("ticket.created", {"ticket_id": "t-1", "number": 7}),
        ("order.updated", {"order_id": "o-1", "status": "shipped", "secret_note": "x"}),
        ("order.created", {"order_id": "o-2"}),  # not subscribed
    ):
        await record(
            hooked,
            build_event(
                hooked, workspace_id, kind, customer_id=received.conversation.customer_id, data=data
            ),
        )
    await deliver(hooked)
    got = {b["type"]: b["data"] for b in (verified(secret, r) for r in receiver.requests)}  # type: ignore[misc]
    customer = received.conversation.customer_id
    assert got == {
        "customer.created": {"customer_id": customer, "source": "message"},
        "conversation.resolved": {
            "conversation_id": received.conversation.id,
            "customer_id": customer,
            "resolved_by": {"kind": "agent", "id": "u-1"},
        },
        "ticket.created": {"ticket_id": "t-1", "customer_id": customer, "conversation_id": None},
        "order.updated": {
            "order_id": "o-1",
            "customer_id": customer,
            "conversation_id": None,
            "status": "shipped",
        },
    }


async def test_a_consumer_that_runs_an_event_twice_delivers_it_once(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver
) -> None:
    await subscribe(hooked, workspace_id, receiver.url, "message.created")
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    doc = await hooked.store.events.find_one({"type": "message.received"})
    assert doc is not None
    event = Event.from_doc(doc)
    await consume(hooked, event)
    await consume(hooked, event)  # a retried claim after a crash
    assert await deliveries(hooked).count_documents({}) == 1
    assert await DeliveryWorker(hooked).run_once() == 1
    assert await DeliveryWorker(hooked).run_once() == 0
    assert len(receiver.requests) == 1


async def test_failures_are_retried_with_backoff_on_the_clock_under_one_id(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver, clock: ManualClock
) -> None:
    _, secret = await subscribe(hooked, workspace_id, receiver.url, "message.created")
    receiver.statuses = [500, 503]
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    worker = DeliveryWorker(hooked)
    assert await deliver(hooked) == 1
    first = await only_delivery(hooked)
    assert (first.status, first.attempts, first.response_status) == ("pending", 1, 500)
    assert first.last_error == "HTTP 500"
    assert first.next_attempt_at == clock.now() + timedelta(seconds=5)
    assert await worker.run_once() == 0  # not due yet
    clock.advance(5)
    assert await worker.run_once() == 1
    second = await only_delivery(hooked)
    assert (second.attempts, second.response_status) == (2, 503)
    clock.advance(RETRY_DELAYS[1] - 1)
    assert await worker.run_once() == 0
    clock.advance(1)
    assert await worker.run_once() == 1
    done = await only_delivery(hooked)
    assert (done.status, done.attempts, done.response_status, done.next_attempt_at) == (
        "succeeded",
        3,
        200,
        None,
    )
    assert done.latency_ms is not None and done.last_error is None
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    for request in receiver.requests:  # each attempt signed afresh, at its own time
        when = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), tz=UTC)
        signed = Webhook(secret).sign(request.headers["webhook-id"], when, request.body.decode())
        assert request.headers["webhook-signature"] == signed


async def test_a_delivery_that_keeps_failing_fails_and_the_endpoint_is_disabled(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver, clock: ManualClock
) -> None:
    hooked.settings = hooked.settings.model_copy(update={"webhook_disable_after_days": 1.0})
    endpoint_id, _ = await subscribe(hooked, workspace_id, receiver.url, "message.created")
    receiver.statuses = [500] * 20
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await deliver(hooked)
    worker = DeliveryWorker(hooked)
    for delay in RETRY_DELAYS:
        clock.advance(delay)
        assert await worker.run_once() == 1
    failed = await only_delivery(hooked)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 8, None)
    assert len(receiver.requests) == 8
    endpoint = await endpoints(hooked).find_one({"_id": endpoint_id})
    assert endpoint is not None and endpoint["enabled"] is False
    assert endpoint["disabled_reason"].startswith("failing since")
    await ingest(hooked, channel, inbound(channel, "ada", "still there?", message_id="m-2"))
    await deliver(hooked)
    assert len(receiver.requests) == 8  # a disabled endpoint is sent nothing


async def test_two_workers_never_send_one_delivery_at_once(
    hooked: Core,
    second_process: Core,
    workspace_id: str,
    channel: Channel,
    receiver: Receiver,
) -> None:
    await subscribe(hooked, workspace_id, receiver.url, "message.created")
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    receiver.hold = 1
    first = asyncio.create_task(DeliveryWorker(hooked, "one").run_once())
    await receiver.wait_for(1)
    assert await DeliveryWorker(second_process, "two").run_once() == 0
    receiver.release.set()
    assert await first == 1
    assert len(receiver.requests) == 1
    assert (await only_delivery(hooked)).status == DeliveryStatus.succeeded


async def test_a_killed_workers_delivery_is_sent_by_another_after_its_lease(
    hooked: Core,
    second_process: Core,
    workspace_id: str,
    channel: Channel,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    await subscribe(hooked, workspace_id, receiver.url, "message.created")
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    receiver.hold = 1
    killed = asyncio.create_task(DeliveryWorker(hooked, "killed").run_once())
    await receiver.wait_for(1)
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    other = DeliveryWorker(second_process, "other")
    assert await other.run_once() == 0  # still leased
    clock.advance(hooked.settings.webhook_lease_seconds + 1)
    assert await other.run_once() == 1
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert (await only_delivery(hooked)).status == DeliveryStatus.succeeded


async def test_a_slow_endpoint_holds_neither_the_others_nor_more_than_its_share(
    hooked: Core,
    workspace_id: str,
    channel: Channel,
    receiver: Receiver,
    other_receiver: Receiver,
) -> None:
    await subscribe(hooked, workspace_id, receiver.url, "message.created")
    await subscribe(hooked, workspace_id, other_receiver.url, "message.created")
    for n in range(3):
        await ingest(hooked, channel, inbound(channel, "ada", f"m{n}", message_id=f"m{n}"))
    await ConsumerWorker(hooked).drain()
    receiver.hold = 99
    worker = DeliveryWorker(hooked, per_endpoint=2)
    running = asyncio.create_task(worker.run_once())
    await other_receiver.wait_for(2)
    await receiver.wait_for(2)
    await asyncio.sleep(0)
    assert len(receiver.requests) == 2 and receiver.in_flight == 2  # its share, held
    receiver.release.set()
    assert await running == 4
    await DeliveryWorker(hooked).drain()
    assert (len(receiver.requests), len(other_receiver.requests)) == (3, 3)


@pytest.mark.parametrize("ask_each_up_to", [32, 1])
async def test_while_one_endpoint_has_its_share_in_flight_the_others_get_all_theirs(
    hooked: Core,
    workspace_id: str,
    channel: Channel,
    receiver: Receiver,
    other_receiver: Receiver,
    ask_each_up_to: int,
) -> None:
    """The claim with an endpoint full asks the others' deliveries endpoint by endpoint (or,
    past `ask_each_up_to` of them, in one query): each gets up to its share at a time, to
    the last, while the full one's wait."""
    async with _receiver("/third") as third:
        for made in (receiver, other_receiver, third):
            await subscribe(hooked, workspace_id, made.url, "message.created")
        for n in range(5):
            await ingest(hooked, channel, inbound(channel, "ada", f"m{n}", message_id=f"m{n}"))
        await ConsumerWorker(hooked).drain()
        receiver.hold = 99
        stop = asyncio.Event()
        worker = DeliveryWorker(hooked, per_endpoint=2, ask_each_up_to=ask_each_up_to)
        running = asyncio.create_task(worker.run_forever(stop))
        await other_receiver.wait_for(5)
        await third.wait_for(5)
        assert len(receiver.requests) == 2 and receiver.in_flight == 2  # its share, held
        assert other_receiver.most_in_flight <= 2 and third.most_in_flight <= 2
        receiver.release.set()
        await receiver.wait_for(5)
        stop.set()
        await running
    assert [len(r.requests) for r in (receiver, other_receiver, third)] == [5, 5, 5]


async def test_deliveries_are_erased_with_their_customer(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver
) -> None:
    from kith.core.customers import do_erase_customer

    await subscribe(hooked, workspace_id, receiver.url, "message.created")
    received = await ingest(hooked, channel, inbound(channel, "ada", "my address is …"))
    await deliver(hooked)
    assert await deliveries(hooked).count_documents({}) == 1
    await do_erase_customer(hooked, workspace_id, received.conversation.customer_id)
    assert await deliveries(hooked).count_documents({}) == 0


async def test_assignments_merges_and_segments_reach_their_subscribers(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver
) -> None:
    from kith.core.auth import create_user
    from kith.core.customers import do_merge_customers
    from kith.core.models import Role

    _, secret = await subscribe(
        hooked,
        workspace_id,
        receiver.url,
        "conversation.assigned",
        "customer.merged",
        "segment.entered",
        "segment.left",
    )
    agent = await create_user(hooked, workspace_id, "al@kith.test", "pw-123456789", role=Role.agent)
    ada = await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    grace = await ingest(hooked, channel, inbound(channel, "grace", "hi"))
    await do_update_conversation(hooked, ada.conversation, assignee_id=agent.id)
    kept, gone = ada.conversation.customer_id, grace.conversation.customer_id
    await do_merge_customers(hooked, workspace_id, kept, gone)
    for kind in ("segment.entered", "segment.left"):  # as segments' membership records them
        event = build_event(
            hooked, workspace_id, kind, customer_id=kept, data={"segment_id": "s-1", "cause": "e"}
        )
        await record(hooked, event)
    await deliver(hooked)
    got = {b["type"]: b["data"] for b in (verified(secret, r) for r in receiver.requests)}  # type: ignore[misc]
    assert got == {
        "conversation.assigned": {
            "conversation_id": ada.conversation.id,
            "customer_id": kept,
            "assignee_id": agent.id,
        },
        "customer.merged": {"customer_id": kept, "merged_id": gone},
        "segment.entered": {"segment_id": "s-1", "customer_id": kept},
        "segment.left": {"segment_id": "s-1", "customer_id": kept},
    }


async def test_an_attempt_past_its_deadline_fails_and_is_retried(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver
) -> None:
    """The deadline covers the whole attempt: an endpoint that never answers costs it at
    most `webhook_timeout_seconds` (a fraction of a second here)."""
    hooked.settings = hooked.settings.model_copy(update={"webhook_timeout_seconds": 0.3})
    await subscribe(hooked, workspace_id, receiver.url, "message.created")
    receiver.hold = 1
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    assert await DeliveryWorker(hooked).run_once() == 1
    delivery = await only_delivery(hooked)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.pending, 1)
    assert delivery.last_error == "no answer within 0.3 s"
    assert (delivery.response_status, delivery.latency_ms) == (None, None)


async def test_events_while_disabled_are_kept_and_the_recent_ones_sent_on_re_enabling(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver, clock: ManualClock
) -> None:
    """Regression (QA sequences #2): an event while the endpoint was disabled left nothing to
    redeliver. Now it is kept as failed; re-enabling sends the last 3 days' (not older)."""
    endpoint_id, _ = await subscribe(hooked, workspace_id, receiver.url, "message.created")
    off, on = EndpointPatch(enabled=False), EndpointPatch(enabled=True)
    await do_update_endpoint(hooked, workspace_id, endpoint_id, off)
    await ingest(hooked, channel, inbound(channel, "ada", "long ago", message_id="m-old"))
    clock.advance(int(REPLAY_ON_ENABLE.total_seconds()) + 3600)
    await ingest(hooked, channel, inbound(channel, "ada", "while disabled", message_id="m-new"))
    assert await deliver(hooked) == 0 and receiver.requests == []
    kept = [Delivery.from_doc(d) async for d in deliveries(hooked).find({})]
    assert {(d.status, d.attempts, d.last_error) for d in kept} == {
        (DeliveryStatus.failed, 0, ENDPOINT_DISABLED)
    }
    await do_update_endpoint(hooked, workspace_id, endpoint_id, on)
    await do_update_endpoint(hooked, workspace_id, endpoint_id, on)  # already on: no replay
    assert await deliver(hooked) == 1
    (request,) = receiver.requests
    assert json.loads(request.body)["data"]["text"] == "while disabled"
    old = next(d for d in kept if "long ago" in d.body)
    assert (await get_delivery(hooked, workspace_id, endpoint_id, old.id)).status == "failed"
    await do_redeliver(hooked, workspace_id, endpoint_id, old.id)
    assert await deliver(hooked) == 1 and len(receiver.requests) == 2


async def test_the_log_is_kept_thirty_days_after_a_deliverys_last_try(
    hooked: Core, workspace_id: str, channel: Channel, receiver: Receiver, clock: ManualClock
) -> None:
    """Regression (QA sequences, suggestions): the delivery log was never pruned. A TTL index
    drops a delivery 30 days after it was made or last tried; that is far beyond the retries
    and the 3 days that re-enabling an endpoint replays."""
    declared = [i for i in feature(hooked).indexes if i.collection == DELIVERIES]
    assert any(
        i.keys == (("purge_at", 1),) and i.options == {"expireAfterSeconds": 0} for i in declared
    )
    made = await deliveries(hooked).index_information()
    assert [i.get("expireAfterSeconds") for i in made.values() if "purge_at" in dict(i["key"])] == [
        0
    ]
    assert (
        KEEP_DELIVERIES
        == timedelta(days=30)
        > REPLAY_ON_ENABLE + timedelta(seconds=sum(RETRY_DELAYS))
    )
    endpoint_id, _ = await subscribe(hooked, workspace_id, receiver.url, "message.created")
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    assert (await only_delivery(hooked)).purge_at == clock.now() + KEEP_DELIVERIES
    clock.advance(60)
    await DeliveryWorker(hooked).drain()
    assert (await only_delivery(hooked)).purge_at == clock.now() + KEEP_DELIVERIES
    clock.advance(20 * 86400)
    delivery = await do_redeliver(
        hooked, workspace_id, endpoint_id, (await only_delivery(hooked)).id
    )
    assert delivery.purge_at == clock.now() + KEEP_DELIVERIES
