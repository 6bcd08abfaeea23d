"""The event consumer: each internal event a subscriber asked for becomes one delivery per
subscribed endpoint, written once however often the consumer runs it, and left to the
delivery worker, so that the pipeline never waits on anyone's endpoint. A disabled
endpoint's deliveries are kept (failed, `endpoint disabled`) rather than lost."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pymongo.errors import BulkWriteError

from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.models import Event
from kith.webhooks import catalogue
from kith.webhooks.actions import wake
from kith.webhooks.models import Delivery, DeliveryStatus, Endpoint
from kith.webhooks.store import deliveries, delivery_id, endpoints, purge_at
from kith.webhooks.wording import NOT_SENT

DUPLICATE_KEY = 11000


async def consume(core: Core, event: Event) -> None:
    """A disabled endpoint's deliveries are written too, as failed (`endpoint disabled`) and
    never attempted: re-enabling it sends the recent ones (`kith.webhooks.actions`)."""
    listening = [
        Endpoint.from_doc(doc)
        async for doc in endpoints(core).find({"workspace_id": event.workspace_id})
    ]
    if not listening:
        return
    found = await catalogue.public_events(core, event)
    now = core.clock.now()
    docs = []
    for public in found:
        kind, data = public
        body = json.dumps(catalogue.payload(event, public), ensure_ascii=False)
        for endpoint in listening:
            if not endpoint.wants(kind):
                continue
            delivery = Delivery(
                id=delivery_id(kind, event.id, endpoint.id),
                workspace_id=event.workspace_id,
                endpoint_id=endpoint.id,
                event_id=event.id,
                type=kind,
                body=body,
                customer_id=data.get("customer_id"),
                created_at=event.created_at,
                purge_at=purge_at(core),
                **_due(endpoint, now),
            )
            docs.append(delivery.to_doc())
    if docs:
        await _insert_new(core, docs)
        wake(core)


def _due(endpoint: Endpoint, now: datetime) -> dict[str, Any]:
    """Pending now, or (the endpoint disabled) kept as failed, to be sent on re-enabling."""
    if endpoint.enabled:
        return {"status": DeliveryStatus.pending, "next_attempt_at": now}
    return {
        "status": DeliveryStatus.failed,
        "last_error": NOT_SENT.english,
        "error_wording": NOT_SENT.wording,
    }


async def _insert_new(core: Core, docs: list[dict[str, object]]) -> None:
    """Insert the deliveries not written by an earlier run of this event."""
    try:
        await deliveries(core).insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise


CONSUMER = Consumer("webhooks", catalogue.INTERNAL_TYPES, consume)
