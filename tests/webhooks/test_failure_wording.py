"""Each failure is stored where it happens as the English (`last_error`, `disabled_error`, for
API clients and logs) and, beside it, as a key and values (`error_wording`,
`disabled_error_wording`) that the API hands the Webhooks page; failures stored before the
wording was get it once, as the feature starts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from kith.core.clock import ManualClock
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.egress import EgressPolicy, http_client
from kith.core.models import Channel
from kith.core.pipeline import ingest
from kith.webhooks.feature import feature
from kith.webhooks.models import (
    ENDPOINT_DISABLED,
    TOO_LARGE,
    UNREACHABLE,
    Delivery,
    DeliveryStatus,
)
from kith.webhooks.store import backfill_error_wordings, deliveries, endpoints
from kith.webhooks.worker import DeliveryWorker
from tests.support.cast import inbound
from tests.webhooks.conftest import Receiver, auth, post

DAY = timedelta(days=1)


def worded(key: str, **values: str | int) -> dict[str, Any]:
    """A wording as stored and as the API answers it."""
    return {"key": key, "values": values, "terms": {}}


async def subscribe(client: httpx.AsyncClient, token: str, url: str) -> str:
    made = await post(client, token, "", json={"url": url, "events": ["message.created"]})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def queue_test(client: httpx.AsyncClient, token: str, endpoint_id: str) -> str:
    """Queue a test event to the endpoint: its delivery's id."""
    queued = await post(client, token, f"/{endpoint_id}/test")
    assert queued.status_code == 202, queued.text
    return str(queued.json()["id"])


async def stored_and_shown(
    hooked: Core, client: httpx.AsyncClient, token: str, endpoint_id: str
) -> list[tuple[str | None, Any, Any]]:
    """Each delivery's (`last_error`, stored `error_wording`, the API's `error`), oldest first."""
    docs = await deliveries(hooked).find({}).sort("created_at", 1).to_list(None)
    log = await client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=auth(token))
    shown = {row["id"]: row["error"] for row in log.json()["items"]}
    return [(d["last_error"], d.get("error_wording"), shown[d["_id"]]) for d in docs]


async def test_an_http_status_is_stored_with_its_key(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    endpoint_id = await subscribe(client, token, receiver.url)
    receiver.statuses = [503]
    await queue_test(client, token, endpoint_id)
    assert await DeliveryWorker(hooked).run_once() == 1
    http = worded("http", status=503)
    assert await stored_and_shown(hooked, client, token, endpoint_id) == [("HTTP 503", http, http)]


async def test_no_answer_in_time_is_stored_with_its_seconds(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    hooked.settings = hooked.settings.model_copy(update={"webhook_timeout_seconds": 0.3})
    endpoint_id = await subscribe(client, token, receiver.url)
    receiver.hold = 1  # never answers within the attempt's deadline
    await queue_test(client, token, endpoint_id)
    assert await DeliveryWorker(hooked).run_once() == 1
    timeout = worded("timeout", seconds="0.3")
    assert await stored_and_shown(hooked, client, token, endpoint_id) == [
        ("no answer within 0.3 s", timeout, timeout)
    ]


async def test_an_answer_too_large_is_stored_with_its_key(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    hooked.settings = hooked.settings.model_copy(update={"outbox_response_max_bytes": 1})
    endpoint_id = await subscribe(client, token, receiver.url)
    await queue_test(client, token, endpoint_id)  # the receiver answers `{}`: two bytes
    assert await DeliveryWorker(hooked).run_once() == 1
    large = worded("too_large")
    assert await stored_and_shown(hooked, client, token, endpoint_id) == [(TOO_LARGE, large, large)]


async def test_an_unreachable_endpoint_is_stored_with_its_key(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    endpoint_id = await subscribe(client, token, receiver.url)
    await queue_test(client, token, endpoint_id)
    await hooked.http.aclose()
    hooked.http = http_client(EgressPolicy())  # loopback refused: not connected
    assert await DeliveryWorker(hooked).run_once() == 1
    unreachable = worded("unreachable")
    assert await stored_and_shown(hooked, client, token, endpoint_id) == [
        (UNREACHABLE, unreachable, unreachable)
    ]
    assert receiver.requests == []


async def test_not_sent_to_a_disabled_endpoint_is_stored_with_its_key(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    receiver: Receiver,
    channel: Channel,
    clock: ManualClock,
) -> None:
    """Both ways: queued, then the endpoint disabled before the worker came to it; and an
    event while it is disabled (kept as failed by the consumer)."""
    endpoint_id = await subscribe(client, token, receiver.url)
    await queue_test(client, token, endpoint_id)
    off = await client.patch(
        f"/api/v1/webhooks/{endpoint_id}", json={"enabled": False}, headers=auth(token)
    )
    assert off.status_code == 200, off.text
    assert await DeliveryWorker(hooked).run_once() == 1
    clock.advance(1)
    await ingest(hooked, channel, inbound(channel, "ada", "while disabled"))
    await ConsumerWorker(hooked).drain()
    endpoint_off = worded("endpoint_off")
    assert (
        await stored_and_shown(hooked, client, token, endpoint_id)
        == [(ENDPOINT_DISABLED, endpoint_off, endpoint_off)] * 2
    )
    assert receiver.requests == []


async def test_a_success_clears_the_stored_failure(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    endpoint_id = await subscribe(client, token, receiver.url)
    receiver.statuses = [500]  # then 200
    delivery_id = await queue_test(client, token, endpoint_id)
    worker = DeliveryWorker(hooked)
    await worker.run_once()
    again = await post(client, token, f"/{endpoint_id}/deliveries/{delivery_id}/redeliver")
    assert again.status_code == 202, again.text
    await worker.run_once()
    assert await stored_and_shown(hooked, client, token, endpoint_id) == [(None, None, None)]


async def test_failures_that_disable_an_endpoint_store_the_last_ones_key(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    hooked.settings = hooked.settings.model_copy(update={"webhook_disable_after_days": 1.0})
    endpoint_id = await subscribe(client, token, receiver.url)
    receiver.statuses = [500, 502]
    worker = DeliveryWorker(hooked)
    await queue_test(client, token, endpoint_id)
    await worker.run_once()  # failing since now
    clock.advance(DAY.total_seconds())
    await queue_test(client, token, endpoint_id)
    await worker.run_once()  # a day later: disabled

    doc = await endpoints(hooked).find_one({"_id": endpoint_id})
    assert doc is not None and doc["enabled"] is False
    assert (doc["disabled_error"], doc["disabled_error_wording"]) == (
        "HTTP 502",
        worded("http", status=502),
    )
    assert doc["disabled_reason"].endswith("(last: HTTP 502)")
    shown = (await client.get(f"/api/v1/webhooks/{endpoint_id}", headers=auth(token))).json()
    off = shown["off"]
    assert (off["key"], off["values"]["error"], off["values"]["error_status"]) == (
        "failing",
        "http",
        502,
    )
    on = await client.patch(
        f"/api/v1/webhooks/{endpoint_id}", json={"enabled": True}, headers=auth(token)
    )
    assert on.json()["off"] is None
    doc = await endpoints(hooked).find_one({"_id": endpoint_id})
    assert doc is not None
    assert (doc["disabled_error"], doc["disabled_error_wording"]) == (None, None)


# Documents written before the wording was stored: the English only.

OLD_ERRORS = {
    "timeout": ("no answer within 10 s", worded("timeout", seconds="10")),
    "fraction": ("no answer within 0.3 s", worded("timeout", seconds="0.3")),
    "http": ("HTTP 503", worded("http", status=503)),
    "unreachable": (UNREACHABLE, worded("unreachable")),
    "too_large": (TOO_LARGE, worded("too_large")),
    "endpoint_off": (ENDPOINT_DISABLED, worded("endpoint_off")),
    "unknown": ("something Kith never wrote", None),
}


def old_delivery(workspace_id: str, endpoint_id: str, name: str, **fields: Any) -> dict[str, Any]:
    """A delivery as stored before `error_wording` existed."""
    doc = Delivery(
        id=f"msg_{name}",
        workspace_id=workspace_id,
        endpoint_id=endpoint_id,
        event_id=f"ev_{name}",
        type="message.created",
        body="{}",
        created_at=fields.pop("created_at"),
        **fields,
    ).to_doc()
    del doc["error_wording"]
    return doc


async def start_and_stop(core: Core) -> None:
    """What `kith serve` runs for the feature as it starts, told to stop at once."""
    stop = asyncio.Event()
    stop.set()
    await asyncio.gather(*(loop(stop) for loop in feature(core).background))


async def test_old_failures_are_worded_when_the_feature_starts(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    workspace_id: str,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    """Regression guard: the page's wording was read back from the English at every read;
    now it is stored, and what was stored before gets it once."""
    now = clock.now()
    endpoint_id = await subscribe(client, token, receiver.url)
    old = [
        old_delivery(
            workspace_id,
            endpoint_id,
            name,
            created_at=now - n * timedelta(minutes=1),
            status=DeliveryStatus.failed,
            attempts=1,
            last_error=english,
        )
        for n, (name, (english, _)) in enumerate(OLD_ERRORS.items())
    ]
    sent = old_delivery(
        workspace_id,
        endpoint_id,
        "sent",
        created_at=now - DAY,
        status=DeliveryStatus.succeeded,
        attempts=1,
    )
    await deliveries(hooked).insert_many([*old, sent])
    since = now - 3 * DAY
    await endpoints(hooked).update_one(
        {"_id": endpoint_id},
        {
            "$set": {
                "enabled": False,
                "disabled_reason": f"failing since {since:%Y-%m-%d %H:%M} UTC (last: HTTP 500)",
                "disabled_since": since,
                "disabled_error": "HTTP 500",
            },
            "$unset": {"disabled_error_wording": ""},
        },
    )

    await start_and_stop(hooked)

    log = await client.get(
        f"/api/v1/webhooks/{endpoint_id}/deliveries?limit=100", headers=auth(token)
    )
    shown = {row["id"]: (row["last_error"], row["error"]) for row in log.json()["items"]}
    assert shown == {f"msg_{k}": v for k, v in OLD_ERRORS.items()} | {"msg_sent": (None, None)}
    stored = {d["_id"]: d.get("error_wording", "absent") async for d in deliveries(hooked).find()}
    assert stored == {f"msg_{k}": v[1] for k, v in OLD_ERRORS.items()} | {"msg_sent": "absent"}
    endpoint = (await client.get(f"/api/v1/webhooks/{endpoint_id}", headers=auth(token))).json()
    assert endpoint["off"]["key"] == "failing"
    assert {k: v for k, v in endpoint["off"]["values"].items() if k != "since"} == {
        "error": "http",
        "error_status": 500,
    }
    assert endpoint["disabled_reason"].endswith("(last: HTTP 500)")  # the English as it was
    assert await backfill_error_wordings(hooked) == 0  # the next start: nothing left


async def test_the_wording_backfill_goes_in_batches_and_leaves_new_failures_alone(
    hooked: Core,
    workspace_id: str,
    clock: ManualClock,
) -> None:
    now = clock.now()
    await deliveries(hooked).insert_many(
        [
            old_delivery(
                workspace_id,
                "ep_1",
                f"d{i}",
                created_at=now - i * DAY,
                status=DeliveryStatus.pending,
                attempts=1,
                last_error=f"HTTP 50{i}",
            )
            for i in range(5)
        ]
    )
    # An attempt meanwhile stored its own failure: the backfill does not overwrite it.
    await deliveries(hooked).update_one(
        {"_id": "msg_d0"},
        {"$set": {"last_error": TOO_LARGE, "error_wording": worded("too_large")}},
    )

    assert await backfill_error_wordings(hooked, batch=2) == 4
    assert await backfill_error_wordings(hooked, batch=2) == 0

    stored = {d["_id"]: d["error_wording"] async for d in deliveries(hooked).find()}
    assert stored == {"msg_d0": worded("too_large")} | {
        f"msg_d{i}": worded("http", status=500 + i) for i in range(1, 5)
    }
