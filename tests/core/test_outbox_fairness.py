"""The outbox sends many messages at once, fairly: a slow, trickling or oversized endpoint
never holds other channels' replies, and a conversation's replies still go out one at a time
in order, across workers (issue #13).

Endpoints are real loopback servers (`tests.support.endpoints`) reached by the worker's own
httpx client (`second_process`: another Kith process on the same database).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import Any

import httpx

from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.egress import EgressPolicy, EgressTransport, http_client
from kith.core.models import (
    Author,
    AuthorKind,
    Conversation,
    Event,
    InboundUser,
    Message,
    OutboundContent,
)
from kith.core.outbox import OutboxWorker, send
from kith.core.outbox_claims import PREFETCH
from kith.core.pipeline import ingest
from kith.core.workspaces import create_workspace
from tests.support.callbacks import CallbackServer
from tests.support.cast import api_channel, inbound
from tests.support.endpoints import Endpoint, serving
from tests.support.faults import recording

AGENT = Author(kind=AuthorKind.agent, id="agent-1", name="Sam")
SAFETY = 20  # seconds: only a hung test ever waits this long


def tune(*cores: Core, **settings: Any) -> None:
    """Change outbox settings for this test, on every process."""
    tuned = cores[0].settings.model_copy(update=settings)
    for core in cores:
        core.settings = tuned


async def conversations(
    core: Core, workspace_id: str, url: str, count: int, name: str = "API"
) -> list[Conversation]:
    """`count` conversations on one new API channel calling back `url`."""
    channel, _ = await create_channel(core, workspace_id, "api", name, {"callback_url": url})
    users = [InboundUser(id=f"{name}-{i}") for i in range(count)]
    return [(await ingest(core, channel, inbound(channel, user=u))).conversation for u in users]


async def reply(core: Core, conversation: Conversation, text: str) -> Message:
    return await send(core, conversation, OutboundContent(text=text), AGENT)


async def delivery(core: Core, message: Message) -> dict[str, Any]:
    return (await core.store.messages.find_one({"_id": message.id}))["delivery"]


def texts(endpoint: Endpoint) -> list[str]:
    return [body["message"]["text"] for body in endpoint.received]


def delivered_events(core: Core, wanted: int) -> tuple[list[str], asyncio.Event]:
    """Message ids in the order this process records them delivered; the event fires at
    `wanted`."""
    ids: list[str] = []
    done = asyncio.Event()

    def listen(event: Event) -> None:
        if event.type == "message.delivered":
            ids.append(str(event.message_id))
            if len(ids) >= wanted:
                done.set()

    core.event_listeners.append(listen)
    return ids, done


async def test_a_trickling_endpoint_does_not_hold_other_channels_replies(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    other_workspace = (await create_workspace(core, "Other shop")).id
    async with (
        serving(Endpoint("trickle")) as slow,
        serving(Endpoint("ok")) as healthy,
    ):
        [stuck] = await conversations(core, workspace_id, slow.url, 1, "slow")
        waiting = await reply(core, stuck, "to the slow endpoint")  # the oldest message
        fast = [
            *await conversations(core, workspace_id, healthy.url, 4, "same-shop"),
            *await conversations(core, other_workspace, healthy.url, 4, "other-shop"),
        ]
        replies = [await reply(core, c, f"reply {i}") for i, c in enumerate(fast)]
        delivered, all_delivered = delivered_events(second_process, len(replies))

        stop = asyncio.Event()
        worker = asyncio.create_task(OutboxWorker(second_process).run_forever(stop))
        await asyncio.wait_for(all_delivered.wait(), SAFETY)

        # Every healthy reply went out while the slow answer was still trickling in.
        assert sorted(delivered) == sorted(m.id for m in replies)
        assert slow.in_flight == 1 and texts(slow) == ["to the slow endpoint"]
        assert (await delivery(core, waiting))["status"] == "pending"
        stop.set()
        slow.release.set()  # the slow endpoint hangs up: a retryable failure
        await asyncio.wait_for(worker, SAFETY)
    assert (await delivery(core, waiting))["attempts"] == 1


async def test_many_trickling_destinations_do_not_take_every_connection(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    """The process's one HTTP client keeps connections for healthy destinations while a dozen
    sends trickle: with httpcore's bare pool (10 connections) they waited for the pool."""
    tune(core, second_process, outbox_concurrency=32)
    async with serving(Endpoint("trickle")) as slow, serving(Endpoint("ok")) as healthy:
        for n in range(12):
            [stuck] = await conversations(core, workspace_id, slow.url, 1, f"slow-{n}")
            await reply(core, stuck, f"to the slow endpoint {n}")
        fast = await conversations(core, workspace_id, healthy.url, 4, "healthy")
        replies = [await reply(core, c, f"reply {i}") for i, c in enumerate(fast)]
        delivered, all_delivered = delivered_events(second_process, len(replies))

        stop = asyncio.Event()
        worker = asyncio.create_task(OutboxWorker(second_process).run_forever(stop))
        await asyncio.wait_for(slow.wait_for(in_flight=12), SAFETY)
        await asyncio.wait_for(all_delivered.wait(), SAFETY)

        assert sorted(delivered) == sorted(m.id for m in replies)
        assert slow.in_flight == 12
        stop.set()
        slow.release.set()
        await asyncio.wait_for(worker, SAFETY)


async def test_each_destination_has_connections_of_its_own() -> None:
    """Connections held by one destination's sends never leave another waiting for the pool
    (nor make its sends walk them: httpcore's pool scans all it holds on every request)."""
    policy = EgressPolicy.parse("127.0.0.1")
    transport = EgressTransport(policy, limits=httpx.Limits(max_connections=2))
    timeout = httpx.Timeout(SAFETY, pool=SAFETY / 4)
    async with (
        serving(Endpoint("hold")) as held,
        serving(Endpoint("ok")) as other,
        httpx.AsyncClient(transport=transport, timeout=timeout) as http,
    ):
        holding = [
            asyncio.create_task(http.post(held.url, json={"conversation_id": str(n)}))
            for n in range(2)
        ]
        await asyncio.wait_for(held.wait_for(in_flight=2), SAFETY)
        answer = await http.post(other.url, json={"conversation_id": "other"})
        assert answer.status_code == 200
        held.release.set()
        assert [r.status_code for r in await asyncio.gather(*holding)] == [200, 200]


async def test_a_connection_the_server_closed_is_not_used_again() -> None:
    """Idle connections are checked for a close by the server before reuse (the egress
    transport answers httpcore's check from the socket it looked up once)."""
    connections = 0
    closed = asyncio.Event()

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # as a server does when its keep-alive time is up
        await writer.wait_closed()
        closed.set()

    server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, http_client(EgressPolicy.parse("127.0.0.1")) as http:
        assert (await http.get(f"http://127.0.0.1:{port}/")).text == "ok"
        await asyncio.wait_for(closed.wait(), SAFETY)
        again = await http.get(f"http://127.0.0.1:{port}/")
    assert again.text == "ok"
    assert connections == 2


async def test_a_conversations_replies_go_out_in_order_one_at_a_time_across_workers(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    tune(core, second_process, outbox_concurrency=4)
    async with serving(Endpoint("ok")) as endpoint, http_client(core.egress) as http:
        talks = await conversations(core, workspace_id, endpoint.url, 3)
        sent = [await reply(core, c, f"{c.id} #{n}") for n in range(5) for c in talks]
        first_process = dataclasses.replace(core, http=http)
        workers = [OutboxWorker(first_process, owner="w1"), OutboxWorker(second_process)]

        handled = await asyncio.gather(*(w.run_once() for w in workers))

    assert sum(handled) == len(sent)
    ids = [body["message"]["id"] for body in endpoint.received]
    assert Counter(ids) == Counter(m.id for m in sent)  # each exactly once
    assert endpoint.overlaps == 0  # never two of one conversation at once
    for talk in talks:
        mine = [t for t in texts(endpoint) if t.startswith(talk.id)]
        assert mine == [f"{talk.id} #{n}" for n in range(5)]


async def test_a_reply_waits_behind_an_earlier_one_that_is_being_retried(
    core: Core, workspace_id: str, callbacks: CallbackServer, clock: ManualClock
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    conversation = (await ingest(core, channel, inbound(channel, "ada", "hi"))).conversation
    callbacks.fail_next(503)
    first = await reply(core, conversation, "first")
    second = await reply(core, conversation, "second")

    await OutboxWorker(core).run_once()
    assert [r.json()["message"]["text"] for r in callbacks.requests] == ["first"]
    held = await delivery(core, second)
    assert held["status"] == "pending" and held["attempts"] == 0
    assert held["next_attempt_at"] == (await delivery(core, first))["next_attempt_at"]

    clock.advance(core.settings.outbox_backoff_base)
    await OutboxWorker(core).run_once()
    sent = [r.json()["message"]["text"] for r in callbacks.requests]
    assert sent == ["first", "first", "second"]


async def test_a_workspace_with_a_backlog_leaves_slots_for_another(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    tune(core, second_process, outbox_concurrency=4)
    late_workspace = (await create_workspace(core, "Late shop")).id
    async with serving(Endpoint("hold")) as endpoint:
        backlog = await conversations(core, workspace_id, endpoint.url, 12, "busy")
        for talk in backlog:
            await reply(core, talk, "backlog")
        [late] = await conversations(core, late_workspace, endpoint.url, 1, "late")
        await reply(core, late, "newcomer")  # queued after the whole backlog

        stop = asyncio.Event()
        worker = asyncio.create_task(OutboxWorker(second_process).run_forever(stop))
        await asyncio.wait_for(endpoint.wait_for(in_flight=4), SAFETY)

        assert "newcomer" in texts(endpoint)  # among the first four sends, not the 13th
        stop.set()
        endpoint.release.set()
        await asyncio.wait_for(worker, SAFETY)


async def test_a_send_past_its_deadline_is_a_retryable_failure(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    tune(core, second_process, outbox_send_timeout_seconds=0.2)
    async with serving(Endpoint("trickle", trickle_seconds=0.05)) as slow:
        [talk] = await conversations(core, workspace_id, slow.url, 1)
        message = await reply(core, talk, "anyone there?")
        assert await OutboxWorker(second_process).run_once() == 1

    failed = await delivery(core, message)
    assert failed["status"] == "pending" and failed["attempts"] == 1
    assert failed["error"] == "no answer within 0.2 s"


async def test_an_answer_past_the_size_cap_is_a_retryable_failure(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    tune(core, second_process, outbox_response_max_bytes=1024)
    for mode in ("big", "big_undeclared"):
        async with serving(Endpoint(mode)) as endpoint:  # type: ignore[arg-type]
            [talk] = await conversations(core, workspace_id, endpoint.url, 1, mode)
            message = await reply(core, talk, "hello")
            assert await OutboxWorker(second_process).run_once() == 1

        failed = await delivery(core, message)
        assert failed["status"] == "pending" and failed["attempts"] == 1
        assert failed["error"] == "callback answer larger than 1024 bytes"


async def test_refills_share_one_read_of_the_due_messages(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    """Finding the oldest due messages costs an engine without an index-ordered sort
    (DocumentDB) a sort of all of them: a backlog is read ahead for the next refills, and no
    read asks for more than a refill can use (a pass asked for twice its whole budget)."""
    tune(core, second_process, outbox_concurrency=8)
    async with serving(Endpoint("ok")) as healthy:
        chats = await conversations(core, workspace_id, healthy.url, 40)
        for i in range(200):
            await reply(core, chats[i % 40], f"reply {i}")
        messages = second_process.store.messages
        with recording(messages, "find") as finds, recording(messages, "update_many") as updates:
            assert await OutboxWorker(second_process).run_once(limit=500) == 200
    assert len(healthy.received) == 200 and healthy.overlaps == 0
    reads = [c.kwargs["limit"] for c in finds if "delivery.next_attempt_at" in c.args[0]]
    leases = [c for c in updates if "delivery.claim" in c.args[1].get("$set", {})]
    assert max(reads) <= PREFETCH
    assert len(leases) >= 200 / 8 and len(reads) < len(leases)


async def test_a_backlog_is_not_read_again_for_each_refill(
    core: Core, second_process: Core, clock: ManualClock, workspace_id: str
) -> None:
    """Finding each conversation's earliest pending reply reads only replies created up to
    the newest candidate: a pass reads a backlog a few times, not once per refill (it read
    every pending reply of each refill's conversations)."""
    tune(core, second_process, outbox_concurrency=8)
    async with serving(Endpoint("ok")) as healthy:
        chats = await conversations(core, workspace_id, healthy.url, 20)
        for i in range(200):
            await reply(core, chats[i % 20], f"reply {i}")
            clock.advance(1)
        with recording(second_process.store.messages, "find") as finds:
            assert await OutboxWorker(second_process).run_once(limit=500) == 200
    assert len(healthy.received) == 200 and healthy.overlaps == 0
    # Read ahead, heads, read-backs: 2,800-3,000 here (more when refills' read-ahead goes
    # stale on a slow machine); 8,600 when each refill read its conversations' whole backlog.
    assert sum(call.documents for call in finds) <= 6000
