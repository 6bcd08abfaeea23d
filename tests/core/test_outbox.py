"""Outbound delivery through the durable outbox: retries, give-up, leases."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from tests.support.callbacks import CallbackServer
from tests.support.cast import api_channel, inbound

AGENT = Author(kind=AuthorKind.agent, id="agent-1", name="Sam")


async def _conversation(core: Core, workspace_id: str):
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "hi"))
    return channel, received.conversation


async def _delivery(core: Core, message_id: str) -> dict:
    return (await core.store.messages.find_one({"_id": message_id}))["delivery"]


async def test_reply_is_posted_to_the_callback_signed(
    core: Core, workspace_id: str, callbacks: CallbackServer
) -> None:
    channel, conversation = await _conversation(core, workspace_id)
    message = await send(core, conversation, OutboundContent(text="On its way!"), AGENT)

    assert (await _delivery(core, message.id))["status"] == "pending"
    assert await OutboxWorker(core).run_once() == 1

    [request] = callbacks.requests
    payload = request.json()
    assert payload["message"]["text"] == "On its way!"
    assert payload["user"] == {"id": "u-ada"}
    timestamp, signature = (
        p.split("=", 1)[1] for p in request.headers["x-kith-signature"].split(",")
    )
    secret = channel.config["callback_secret"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert hmac.compare_digest(signature, expected.hexdigest())
    assert (await _delivery(core, message.id))["status"] == "sent"


async def test_failed_delivery_is_retried_with_backoff_then_succeeds(
    core: Core, workspace_id: str, callbacks: CallbackServer, clock: ManualClock
) -> None:
    _, conversation = await _conversation(core, workspace_id)
    callbacks.fail_next(500, 503)
    message = await send(core, conversation, OutboundContent(text="retry me"), AGENT)
    worker = OutboxWorker(core)

    await worker.run_once()
    first = await _delivery(core, message.id)
    assert first["status"] == "pending" and first["attempts"] == 1
    assert await worker.run_once() == 0  # not due yet: nothing is sent early

    clock.advance(2.01)
    await worker.run_once()
    second = await _delivery(core, message.id)
    assert second["attempts"] == 2
    assert (second["next_attempt_at"] - clock.now()).total_seconds() > 3  # doubled

    clock.advance(4.01)
    await worker.run_once()
    assert (await _delivery(core, message.id))["status"] == "sent"
    assert len(callbacks.requests) == 3


async def test_retry_after_from_the_channel_is_honoured(
    core: Core, workspace_id: str, callbacks: CallbackServer, clock: ManualClock
) -> None:
    _, conversation = await _conversation(core, workspace_id)
    callbacks.fail_next((429, {"Retry-After": "30"}))
    message = await send(core, conversation, OutboundContent(text="slow down"), AGENT)
    worker = OutboxWorker(core)

    await worker.run_once()
    clock.advance(20)
    assert await worker.run_once() == 0
    clock.advance(10.01)
    assert await worker.run_once() == 1
    assert (await _delivery(core, message.id))["status"] == "sent"


async def test_delivery_gives_up_after_the_bound_and_records_the_error(
    core: Core, workspace_id: str, callbacks: CallbackServer, clock: ManualClock
) -> None:
    _, conversation = await _conversation(core, workspace_id)
    callbacks.fail_next(*([500] * 10))
    message = await send(core, conversation, OutboundContent(text="doomed"), AGENT)
    worker = OutboxWorker(core)

    for _ in range(core.settings.outbox_max_attempts):
        await worker.run_once()
        clock.advance(core.settings.outbox_backoff_max)

    delivery = await _delivery(core, message.id)
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == core.settings.outbox_max_attempts
    assert "HTTP 500" in delivery["error"]
    assert len(callbacks.requests) == core.settings.outbox_max_attempts
    assert await core.store.events.count_documents({"type": "message.failed"}) == 1


async def test_permanent_refusal_fails_at_once(
    core: Core, workspace_id: str, callbacks: CallbackServer
) -> None:
    _, conversation = await _conversation(core, workspace_id)
    callbacks.fail_next(404)
    message = await send(core, conversation, OutboundContent(text="nobody home"), AGENT)
    await OutboxWorker(core).run_once()
    delivery = await _delivery(core, message.id)
    assert delivery["status"] == "failed" and delivery["attempts"] == 1


async def test_two_workers_never_send_one_message_twice(
    core: Core, workspace_id: str, callbacks: CallbackServer
) -> None:
    _, conversation = await _conversation(core, workspace_id)
    sent = [
        await send(core, conversation, OutboundContent(text=f"reply {i}"), AGENT) for i in range(30)
    ]
    workers = [OutboxWorker(core, owner="w1"), OutboxWorker(core, owner="w2")]

    handled = await asyncio.gather(*(w.run_once() for w in workers))

    assert sum(handled) == 30
    texts = [r.json()["message"]["text"] for r in callbacks.requests]
    assert sorted(texts) == sorted(m.text for m in sent)
    assert len(texts) == len(set(texts))


async def test_a_lease_held_by_a_live_worker_is_respected_and_a_dead_ones_expires(
    core: Core, workspace_id: str, callbacks: CallbackServer, clock: ManualClock
) -> None:
    _, conversation = await _conversation(core, workspace_id)
    message = await send(core, conversation, OutboundContent(text="leased"), AGENT)
    dead = OutboxWorker(core, owner="dead")
    assert (await dead.claim()).id == message.id  # claims, then the process dies

    alive = OutboxWorker(core, owner="alive")
    assert await alive.run_once() == 0
    clock.advance(core.settings.outbox_lease_seconds + 1)
    assert await alive.run_once() == 1
    assert len(callbacks.requests) == 1
    # The dead worker's late outcome must not overwrite the live one's.
    await dead._mark(message, {"delivery.status": "failed"}, None)
    assert (await _delivery(core, message.id))["status"] == "sent"


async def test_private_note_is_stored_but_never_delivered(
    core: Core, workspace_id: str, callbacks: CallbackServer
) -> None:
    _, conversation = await _conversation(core, workspace_id)
    note = await send(core, conversation, OutboundContent(text="VIP", private=True), AGENT)
    assert await OutboxWorker(core).run_once() == 0
    assert callbacks.requests == []
    stored = await core.store.messages.find_one({"_id": note.id})
    assert stored["private"] is True and stored["delivery"] is None
