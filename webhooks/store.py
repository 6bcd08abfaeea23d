"""Where endpoints and deliveries live, and the ids derived from natural keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from kith.core.clock import aware, wall
from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.ids import derived_id
from kith.webhooks.models import KEEP_DELIVERIES, Delivery, DeliveryStatus, Endpoint
from kith.webhooks.wording import old_error_wording

ENDPOINTS = "webhook_endpoints"
DELIVERIES = "webhook_deliveries"
BACKFILL_BATCH = 500


def endpoints(core: Core) -> Any:
    return core.store.collection(ENDPOINTS)


def deliveries(core: Core) -> Any:
    return core.store.collection(DELIVERIES)


def purge_at(core: Core) -> datetime:
    """When the log may drop a delivery made or tried now: by the wall clock, which MongoDB's
    TTL monitor reads (the demo's clock runs ahead of it)."""
    return wall(core.clock).now() + KEEP_DELIVERIES


async def backfill_purge_at(core: Core, *, batch: int = BACKFILL_BATCH) -> int:
    """Give the deliveries stored before `purge_at` existed (which the TTL index never
    drops) the date they would have had: their last attempt, else their making, plus
    `KEEP_DELIVERIES`. In batches: each read through the `purge_at` index, each written in
    one bulk write whose updates apply only while `purge_at` is still missing (an attempt or
    another process's backfill meanwhile wins). Nothing to do costs one indexed read; running
    again changes nothing. Returns how many deliveries it dated."""
    dated = 0
    while True:
        found = deliveries(core).find({"purge_at": None}, {"last_attempt_at": 1, "created_at": 1})
        docs = await found.limit(batch).to_list(batch)
        if not docs:
            return dated
        written = await deliveries(core).bulk_write(
            [
                UpdateOne(
                    {"_id": d["_id"], "purge_at": None}, {"$set": {"purge_at": _dated(core, d)}}
                )
                for d in docs
            ],
            ordered=False,
        )
        dated += written.modified_count
        if len(docs) < batch:
            return dated


async def backfill_error_wordings(core: Core, *, batch: int = BACKFILL_BATCH) -> int:
    """Give the failures stored before their wording was (a delivery's `last_error`, a
    disabled endpoint's `disabled_error`) that wording, read back from the English
    (`old_error_wording`; None for text it does not know, stored so it is not read again).
    Errors live only on pending and failed deliveries: those are read through the status
    index, in batches, each written in one bulk write whose updates apply only while the
    wording is still missing and the English unchanged (an attempt meanwhile wins). Running
    again changes nothing. Returns how many deliveries and endpoints it worded."""
    failed = [DeliveryStatus.pending.value, DeliveryStatus.failed.value]
    old_deliveries = {"status": {"$in": failed}, "last_error": {"$type": "string"}}
    worded = await _word_old(deliveries(core), old_deliveries, "last_error", "error_wording", batch)
    old_endpoints = {"enabled": False, "disabled_error": {"$type": "string"}}
    return worded + await _word_old(
        endpoints(core), old_endpoints, "disabled_error", "disabled_error_wording", batch
    )


async def _word_old(
    collection: Any, query: dict[str, Any], english: str, wording: str, batch: int
) -> int:
    missing = {wording: {"$exists": False}}
    worded = 0
    while True:
        found = collection.find(query | missing, {english: 1})
        docs = await found.limit(batch).to_list(batch)
        if not docs:
            return worded
        written = await collection.bulk_write(
            [
                UpdateOne(
                    {"_id": d["_id"], english: d[english], **missing},
                    {"$set": {wording: _worded(d[english])}},
                )
                for d in docs
            ],
            ordered=False,
        )
        worded += written.modified_count
        if len(docs) < batch:
            return worded


def _worded(english: str) -> dict[str, Any] | None:
    found = old_error_wording(english)
    return None if found is None else found.model_dump()


def _dated(core: Core, doc: dict[str, Any]) -> datetime:
    last = doc.get("last_attempt_at") or doc.get("created_at")
    return aware(last) + KEEP_DELIVERIES if isinstance(last, datetime) else purge_at(core)


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
