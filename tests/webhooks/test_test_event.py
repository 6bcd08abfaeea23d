"""An admin sends a test event to an endpoint and reads why a delivery failed, or why an
endpoint is off, as keys the page words in its language (the English stays beside them)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from standardwebhooks import Webhook

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.webhooks.models import TEST_EVENT
from kith.webhooks.store import deliveries
from kith.webhooks.worker import RETRY_DELAYS, DeliveryWorker
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    app,
    browser,
    cast,
    cheap_password_hashing,
)
from tests.webhooks.conftest import Receiver, auth, post


async def subscribe(client: httpx.AsyncClient, token: str, url: str) -> tuple[str, str]:
    made = await post(client, token, "", json={"url": url, "events": ["message.created"]})
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["secret"]


async def test_a_test_event_is_signed_sent_once_and_logged(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    endpoint_id, secret = await subscribe(client, token, receiver.url)
    queued = await post(client, token, f"/{endpoint_id}/test")
    assert queued.status_code == 202, queued.text
    assert (queued.json()["type"], queued.json()["status"]) == (TEST_EVENT, "pending")
    assert await DeliveryWorker(hooked).run_once() == 1

    [request] = receiver.requests
    signed = {k: v for k, v in request.headers.items() if k.startswith("webhook-")}
    body = Webhook(secret).verify(request.body, signed)  # the receiver's own check passes
    assert body["type"] == TEST_EVENT and body["data"]["endpoint_id"] == endpoint_id
    log = await client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=auth(token))
    [row] = log.json()["items"]
    assert (row["id"], row["status"], row["attempts"]) == (queued.json()["id"], "succeeded", 1)
    assert row["payload"] == json.loads(request.body)


async def test_a_failed_test_is_tried_once_and_its_error_has_a_key(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    endpoint_id, _ = await subscribe(client, token, receiver.url)
    receiver.statuses = [503]
    await post(client, token, f"/{endpoint_id}/test")
    await DeliveryWorker(hooked).run_once()
    log = await client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=auth(token))
    [row] = log.json()["items"]
    assert (row["status"], row["last_error"]) == ("failed", "HTTP 503")  # no retries
    assert row["error"] == {"key": "http", "values": {"status": 503}, "terms": {}}


async def test_no_test_for_an_endpoint_that_is_off_or_unknown(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    endpoint_id, _ = await subscribe(client, token, receiver.url)
    off = await client.patch(
        f"/api/v1/webhooks/{endpoint_id}", json={"enabled": False}, headers=auth(token)
    )
    assert off.json()["off"] == {"key": "by_admin", "values": {}, "terms": {}}
    refused = await post(client, token, f"/{endpoint_id}/test")
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "enabled"
    assert (await post(client, token, "/ep_nope/test")).status_code == 404
    assert await deliveries(hooked).count_documents({}) == 0


async def test_an_endpoint_off_after_failing_says_since_when_and_the_last_error(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    hooked.settings = hooked.settings.model_copy(update={"webhook_disable_after_days": 1.0})
    endpoint_id, _ = await subscribe(client, token, receiver.url)
    receiver.statuses = [500] * 20
    worker = DeliveryWorker(hooked)
    started = clock.now()
    for _ in range(3):  # a test each, a day apart: failing since the first
        await post(client, token, f"/{endpoint_id}/test")
        await worker.run_once()
        clock.advance(timedelta(days=1).total_seconds() - RETRY_DELAYS[0])
    shown = (await client.get(f"/api/v1/webhooks/{endpoint_id}", headers=auth(token))).json()
    assert shown["enabled"] is False and shown["disabled_reason"].startswith("failing since")
    off = shown["off"]
    assert (off["key"], off["values"]["error"], off["values"]["error_status"]) == (
        "failing",
        "http",
        500,
    )
    assert off["values"]["since"].startswith(started.isoformat()[:16])
    back = await client.patch(
        f"/api/v1/webhooks/{endpoint_id}", json={"enabled": True}, headers=auth(token)
    )
    assert back.json()["off"] is None
