"""Where endpoints and deliveries live, and the ids derived from natural keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kith.core.clock import wall
from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.ids import derived_id
from kith.webhooks.models import KEEP_DELIVERIES, Delivery, Endpoint

ENDPOINTS = "webhook_endpoints"
DELIVERIES = "webhook_deliveries"


def endpoints(core: Core) -> Any:
    return core.store.collection(ENDPOINTS)


def deliveries(core: Core) -> Any:
    return core.store.collection(DELIVERIES)


def purge_at(core: Core) -> datetime:
    """When the log may drop a delivery made or tried now: by the wall clock, which MongoDB's
    TTL monitor reads (the demo's clock runs ahead of it)."""
    return wall(core.clock).now() + KEEP_DELIVERIES


def delivery_id(public_type: str, event_id: str, endpoint_id: str) -> str:
    """One delivery per (public event, endpoint): a consumer that runs an event again writes
    nothing new, and the id, sent as `webhook-id`, lets receivers drop repeats."""
    return "msg_" + derived_id("webhook-delivery", public_type, event_id, endpoint_id)


async def get_endpoint(core: Core, workspace_id: str, endpoint_id: str) -> Endpoint:
    doc = await endpoints(core).find_one({"_id": endpoint_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such webhook endpoint", field="endpoint_id")
    return Endpoint.from_doc(doc)


async def get_delivery(
    core: Core, workspace_id: str, endpoint_id: str, delivery_id: str
) -> Delivery:
    doc = await deliveries(core).find_one(
        {"_id": delivery_id, "endpoint_id": endpoint_id, "workspace_id": workspace_id}
    )
    if doc is None:
        raise NotFound("no such delivery", field="delivery_id")
    return Delivery.from_doc(doc)
