"""One delivery in full (QA 8, minor 4): the body as sent, each attempt's headers (the
signature, never the secret), time, status and the first part of its answer; a redelivery is
the same event again, refused while a worker is sending it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from standardwebhooks import Webhook

from kith.core.clock import ManualClock
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.models import Channel
from kith.core.pipeline import ingest
from kith.webhooks.models import KEEP_ANSWER_CHARS, KEEP_ATTEMPTS
from kith.webhooks.store import deliveries
from kith.webhooks.worker import DeliveryWorker
from tests.support.cast import inbound
from tests.webhooks.conftest import Receiver, auth, post

TEXT = "<b>Where</b> is my parcel? 包裹"


async def subscribe(client: httpx.AsyncClient, token: str, url: str) -> dict[str, Any]:
    made = await post(client, token, "", json={"url": url, "events": ["message.created"]})
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


async def details(client: httpx.AsyncClient, token: str, endpoint_id: str) -> dict[str, Any]:
    """The endpoint's only delivery, in full."""
    base = f"/api/v1/webhooks/{endpoint_id}/deliveries"
    [row] = (await client.get(base, headers=auth(token))).json()["items"]
    assert "attempt_log" not in row  # the list stays light: attempts are in the details
    found = await client.get(f"{base}/{row['id']}", headers=auth(token))
    assert found.status_code == 200, found.text
    return found.json()  # type: ignore[no-any-return]


async def test_each_attempt_keeps_the_headers_sent_and_the_start_of_its_answer(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    channel: Channel,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    made = await subscribe(client, token, receiver.url)
    receiver.statuses = [500]
    long_answer = b'{"error": "<h1>down</h1>"}' + b"x" * (KEEP_ANSWER_CHARS * 2)
    receiver.answers = [long_answer]
    await ingest(hooked, channel, inbound(channel, "ada", TEXT))
    await ConsumerWorker(hooked).drain()
    assert await DeliveryWorker(hooked).drain() == 1
    first = await details(client, token, made["id"])
    assert first["status"] == "pending" and first["next_attempt_at"] is not None
    clock.advance(5)
    assert await DeliveryWorker(hooked).drain() == 1

    shown = await details(client, token, made["id"])
    assert shown["body"].encode() == receiver.requests[0].body == receiver.requests[1].body
    assert shown["payload"]["data"]["text"] == TEXT
    failed, succeeded = shown["attempt_log"]
    for attempt, request in zip(shown["attempt_log"], receiver.requests, strict=True):
        sent = attempt["request_headers"]
        assert sent["webhook-id"] == shown["id"]
        assert sent["webhook-signature"] == request.headers["webhook-signature"]
        assert sent["webhook-timestamp"] == request.headers["webhook-timestamp"]
        Webhook(made["secret"]).verify(shown["body"], sent)  # what was shown is what was signed
        assert isinstance(attempt["latency_ms"], int)
    assert failed["response_status"] == 500 and failed["error"] == "HTTP 500"
    assert failed["response_body"] == long_answer[:KEEP_ANSWER_CHARS].decode()
    assert failed["response_truncated"] is True
    wording = failed["error_wording"]
    assert (wording["key"], wording["values"]) == ("http", {"status": 500})
    assert (succeeded["response_status"], succeeded["response_body"]) == (200, "{}")
    assert succeeded["response_truncated"] is False and succeeded["error"] is None
    assert shown["sending"] is False
    # The signature is shown; the secret it was made with never is, nor its key bytes.
    key = made["secret"].removeprefix("whsec_")
    assert key not in json.dumps(shown) and made["secret"] not in json.dumps(shown)


async def test_an_attempt_without_an_answer_keeps_no_time_nor_answer(
    hooked: Core, client: httpx.AsyncClient, token: str, channel: Channel
) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens there now: the connection is refused
    made = await subscribe(client, token, f"http://127.0.0.1:{port}/gone")
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    await DeliveryWorker(hooked).drain()
    [attempt] = (await details(client, token, made["id"]))["attempt_log"]
    assert attempt["request_headers"]["webhook-signature"].startswith("v1,")
    assert (attempt["response_status"], attempt["latency_ms"], attempt["response_body"]) == (
        None,
        None,
        None,
    )
    assert attempt["error"] == "could not connect or read the answer"


async def test_a_redelivery_is_the_same_event_and_waits_for_the_one_in_flight(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    channel: Channel,
    receiver: Receiver,
) -> None:
    made = await subscribe(client, token, receiver.url)
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    receiver.hold = 1
    sending = asyncio.create_task(DeliveryWorker(hooked).run_once())
    await receiver.wait_for(1)
    shown = await details(client, token, made["id"])
    assert shown["sending"] is True
    again = f"/{made['id']}/deliveries/{shown['id']}/redeliver"
    refused = await post(client, token, again)
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "delivery_id"
    receiver.release.set()
    assert await sending == 1

    assert (await post(client, token, again)).status_code == 202
    await DeliveryWorker(hooked).drain()
    first, second = receiver.requests
    assert first.body == second.body  # the same event: the same id and data inside
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == shown["id"]
    after = await details(client, token, made["id"])
    assert [a["response_status"] for a in after["attempt_log"]] == [200, 200]
    assert after["attempts"] == 2 and after["sending"] is False
    missing = await client.get(
        f"/api/v1/webhooks/{made['id']}/deliveries/nope", headers=auth(token)
    )
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "delivery_id"


async def test_the_log_keeps_the_last_attempts_only(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    channel: Channel,
    receiver: Receiver,
) -> None:
    made = await subscribe(client, token, receiver.url)
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    await DeliveryWorker(hooked).drain()
    [doc] = await deliveries(hooked).find({}).to_list(None)
    again = f"/{made['id']}/deliveries/{doc['_id']}/redeliver"
    receiver.statuses = [500 + n for n in range(KEEP_ATTEMPTS)]
    for _ in range(KEEP_ATTEMPTS):
        assert (await post(client, token, again)).status_code == 202
        await DeliveryWorker(hooked).drain()
    shown = await details(client, token, made["id"])
    assert shown["attempts"] == KEEP_ATTEMPTS + 1
    statuses = [a["response_status"] for a in shown["attempt_log"]]
    assert statuses == [500 + n for n in range(KEEP_ATTEMPTS)]  # the first (200) dropped
