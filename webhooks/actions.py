"""What admins do to webhook endpoints: subscribe, change, rotate the secret, unsubscribe,
list the deliveries and send one again. Routes parse, call these and answer."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from kith.core import pagination
from kith.core.clock import aware
from kith.core.context import Core
from kith.core.egress import checked_url
from kith.core.errors import Conflict, InvalidInput
from kith.core.ids import new_id
from kith.core.leases import unleased
from kith.core.sealing import sealer_for
from kith.webhooks import signing
from kith.webhooks.catalogue import iso
from kith.webhooks.models import (
    BY_ADMIN,
    ENDPOINT_DISABLED,
    REPLAY_ON_ENABLE,
    TEST_EVENT,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointIn,
    EndpointPatch,
)
from kith.webhooks.store import deliveries, endpoints, get_delivery, get_endpoint, purge_at

MAX_ENDPOINTS = 50


@dataclass(frozen=True)
class Made:
    """An endpoint with its secret: the only answer that carries it."""

    endpoint: Endpoint
    secret: str


async def do_create_endpoint(core: Core, workspace_id: str, body: EndpointIn) -> Made:
    url = await checked_url(core, body.url)
    if await endpoints(core).count_documents({"workspace_id": workspace_id}) >= MAX_ENDPOINTS:
        raise InvalidInput(f"at most {MAX_ENDPOINTS} webhook endpoints", field="url")
    now = core.clock.now()
    endpoint = Endpoint(
        id="ep_" + new_id(),
        workspace_id=workspace_id,
        url=url,
        events=body.events,
        description=body.description,
        created_at=now,
        updated_at=now,
    )
    secret = signing.new_secret()
    doc = endpoint.to_doc() | signing.sealed(sealer_for(core), secret)
    await endpoints(core).insert_one(doc)
    return Made(endpoint, secret)


async def do_update_endpoint(
    core: Core, workspace_id: str, endpoint_id: str, patch: EndpointPatch
) -> Endpoint:
    before = await get_endpoint(core, workspace_id, endpoint_id)
    changes: dict[str, Any] = {"updated_at": core.clock.now()}
    if patch.url is not None:
        changes["url"] = await checked_url(core, patch.url)
    if patch.events is not None:
        changes["events"] = patch.events
    if patch.description is not None:
        changes["description"] = patch.description
    if patch.enabled is not None:
        changes["enabled"] = patch.enabled
        # Re-enabled: failures start counting afresh. Disabled by hand: say so.
        changes["disabled_reason"] = None if patch.enabled else BY_ADMIN
        changes |= {"failing_since": None, "disabled_since": None}
        changes |= {"disabled_error": None, "disabled_error_wording": None}
    doc = await endpoints(core).find_one_and_update(
        {"_id": endpoint_id, "workspace_id": workspace_id},
        {"$set": changes},
        return_document=ReturnDocument.AFTER,
    )
    if patch.enabled and not before.enabled:
        await _replay_held(core, endpoint_id)
    return Endpoint.from_doc(doc)


async def _replay_held(core: Core, endpoint_id: str) -> None:
    """Send again what the disabled endpoint missed in the last `REPLAY_ON_ENABLE` (so one
    disabled for long is not flooded; older ones stay in the log to redeliver one by one),
    each with its own `webhook-id` and the full retry schedule."""
    now = core.clock.now()
    held = await deliveries(core).update_many(
        {
            "endpoint_id": endpoint_id,
            "status": DeliveryStatus.failed.value,
            "last_error": ENDPOINT_DISABLED,
            "created_at": {"$gte": now - REPLAY_ON_ENABLE},
        },
        {
            "$set": {
                "status": DeliveryStatus.pending.value,
                "next_attempt_at": now,
                "purge_at": purge_at(core),
            }
        },
    )
    if held.modified_count:
        wake(core)


async def do_rotate_secret(core: Core, workspace_id: str, endpoint_id: str) -> Made:
    """A new secret at once; the previous one still signs, beside it, for a day."""
    await get_endpoint(core, workspace_id, endpoint_id)
    doc = await endpoints(core).find_one({"_id": endpoint_id}, signing.SECRET_FIELDS)
    sealer = sealer_for(core)
    previous = signing.current_secret(sealer, doc or {})
    secret = signing.new_secret()
    now = core.clock.now()
    fields = signing.sealed(sealer, secret, previous, now + signing.ROTATION_GRACE)
    updated = await endpoints(core).find_one_and_update(
        {"_id": endpoint_id, "workspace_id": workspace_id},
        {"$set": {**fields, "updated_at": now}},
        return_document=ReturnDocument.AFTER,
    )
    return Made(Endpoint.from_doc(updated), secret)


async def do_delete_endpoint(core: Core, workspace_id: str, endpoint_id: str) -> None:
    """The endpoint and its delivery log; a delivery in flight finishes, none starts."""
    await get_endpoint(core, workspace_id, endpoint_id)
    await endpoints(core).delete_one({"_id": endpoint_id, "workspace_id": workspace_id})
    await deliveries(core).delete_many({"endpoint_id": endpoint_id})


async def list_endpoints(core: Core, workspace_id: str) -> list[Endpoint]:
    found = endpoints(core).find({"workspace_id": workspace_id}).sort([("_id", 1)])
    return [Endpoint.from_doc(doc) async for doc in found]


async def list_deliveries(
    core: Core,
    workspace_id: str,
    endpoint_id: str,
    *,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Delivery], str | None]:
    """Latest first, by when the event happened."""
    await get_endpoint(core, workspace_id, endpoint_id)
    query: dict[str, Any] = {"endpoint_id": endpoint_id, "workspace_id": workspace_id}
    if status is not None:
        query["status"] = status.value
    docs, next_cursor = await pagination.page(
        deliveries(core),
        query,
        "created_at",
        cursor=cursor,
        limit=limit,
        descending=True,
        projection={"attempt_log": 0},  # each attempt's headers and answer: in the details
    )
    return [Delivery.from_doc(doc) for doc in docs], next_cursor


@dataclass(frozen=True)
class Details:
    """One delivery with its attempts, and whether a worker is sending it right now."""

    delivery: Delivery
    sending: bool


async def delivery_details(
    core: Core, workspace_id: str, endpoint_id: str, delivery_id: str
) -> Details:
    delivery = await get_delivery(core, workspace_id, endpoint_id, delivery_id)
    until = delivery.lease_until
    return Details(delivery, until is not None and aware(until) > core.clock.now())


async def do_redeliver(
    core: Core, workspace_id: str, endpoint_id: str, delivery_id: str
) -> Delivery:
    """Send a delivery again now, with the same `webhook-id`: one attempt, no retries after.
    Refused while a worker is sending it."""
    await get_delivery(core, workspace_id, endpoint_id, delivery_id)
    now: datetime = core.clock.now()
    doc = await deliveries(core).find_one_and_update(
        {"_id": delivery_id, **unleased(now)},
        {
            "$set": {
                "status": DeliveryStatus.pending.value,
                "manual": True,
                "next_attempt_at": now,
                "purge_at": purge_at(core),
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise Conflict("this delivery is being sent right now", field="delivery_id")
    wake(core)
    return Delivery.from_doc(doc)


async def do_send_test(core: Core, workspace_id: str, endpoint_id: str) -> Delivery:
    """Queue a `webhook.test` delivery to the endpoint now, signed as every delivery is: one
    attempt, shown in its log, so an admin sees at once whether the receiver answers and
    verifies. An endpoint that is off is refused: it would not be sent."""
    endpoint = await get_endpoint(core, workspace_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it to send a test event", field="enabled")
    now = core.clock.now()
    data = {"endpoint_id": endpoint.id, "message": "A test event from Kith."}
    body = {"type": TEST_EVENT, "timestamp": iso(now), "data": data}
    delivery = Delivery(
        id="msg_" + new_id(),
        workspace_id=workspace_id,
        endpoint_id=endpoint.id,
        event_id="test_" + new_id(),
        type=TEST_EVENT,
        body=json.dumps(body),
        manual=True,
        created_at=now,
        next_attempt_at=now,
        purge_at=purge_at(core),
    )
    await deliveries(core).insert_one(delivery.to_doc())
    wake(core)
    return delivery


def wakeup(core: Core) -> asyncio.Event:
    """The event this process's delivery worker waits on between its looks at the queue."""
    event: asyncio.Event | None = core.__dict__.get("_webhook_wakeup")
    if event is None:
        event = core.__dict__["_webhook_wakeup"] = asyncio.Event()
    return event


def wake(core: Core) -> None:
    """Tell this process's delivery worker that something is due (others look every second)."""
    wakeup(core).set()
