"""Dead letters: authentic platform payloads Kith could not use, kept for an admin to replay.

A webhook that answers 4xx to a payload whose signature held only makes the platform retry
it, and Slack turns off an app's event subscriptions after enough failures. So once a
connector has verified a payload, a payload it cannot parse or store (`InvalidInput`) is
acknowledged with 2xx and kept here instead: what arrived, on which channel, and why it
failed. After the cause is fixed (a newer Kith, a corrected channel setting) an admin
replays it: the channel type's `replay` hook re-runs its parse and ingest on the stored
bytes, and the pipeline's dedup makes a second replay, or a platform's own retry, harmless.

A dead letter is platform data that may hold a customer's words, yet by definition it could
not be tied to a customer; so it is kept only as long as it is useful: its payload is
dropped once replayed, and the document itself expires after `KITH_DEAD_LETTER_DAYS`.
The same payload arriving again (a retry, or a redelivery) is one dead letter, counted.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING

from kith.core.channel_records import get_channel
from kith.core.clock import utcnow
from kith.core.context import Core
from kith.core.errors import InvalidInput, KithError, NotFound
from kith.core.features import Feature, Index
from kith.core.ids import derived_id
from kith.core.models import Channel

log = logging.getLogger(__name__)

COLLECTION = "dead_letters"
PREVIEW_CHARS = 2000
MAX_KEPT_BYTES = 15 * 1024 * 1024  # under MongoDB's 16 MB document limit (mail can be larger)
LIST_LIMIT = 200


class Payload(BaseModel):
    """What a webhook received, as a connector needs it to parse again."""

    body: bytes
    content_type: str | None = None


# A channel type's `replay` hook: parse and ingest `Payload` again; returns what it became
# (e.g. "stored", "ignored") and raises `InvalidInput` when it still cannot be used.
Replay = Callable[[Core, Channel, Payload], Awaitable[str]]


class DeadLetter(BaseModel):
    """One kept payload, as the API shows it (the bytes stay in the database)."""

    id: str
    channel_id: str
    channel_type: str
    received_at: datetime
    last_received_at: datetime
    deliveries: int
    reason: str
    field: str | None = None
    content_type: str | None = None
    size: int
    preview: str | None = None
    replays: int = 0
    replayed_at: datetime | None = None
    outcome: str | None = None


def _out(doc: dict[str, Any]) -> DeadLetter:
    body = doc.get("body")
    preview = bytes(body)[:PREVIEW_CHARS].decode("utf-8", "replace") if body else None
    return DeadLetter(
        id=doc["_id"],
        channel_id=doc["channel_id"],
        channel_type=doc["channel_type"],
        received_at=doc["received_at"],
        last_received_at=doc.get("last_received_at", doc["received_at"]),
        deliveries=int(doc.get("deliveries", 1)),
        reason=doc["reason"],
        field=doc.get("field"),
        content_type=doc.get("content_type"),
        size=int(doc.get("size", 0)),
        preview=preview,
        replays=int(doc.get("replays", 0)),
        replayed_at=doc.get("replayed_at"),
        outcome=doc.get("outcome"),
    )


def _purge_at(core: Core) -> datetime:
    """Wall-clock time, as the TTL monitor reads it (like sessions' `purge_at`)."""
    return utcnow() + timedelta(days=core.settings.dead_letter_days)


async def keep_dead_letter(
    core: Core, channel: Channel, payload: Payload, error: KithError
) -> DeadLetter:
    """Keep an authentic payload the channel could not use; the webhook then answers 2xx."""
    now = core.clock.now()
    digest = hashlib.sha256(payload.body).hexdigest()
    doc_id = derived_id("dead-letter", channel.id, digest)
    collection = core.store.collection(COLLECTION)
    await collection.update_one(
        {"_id": doc_id},
        {
            "$setOnInsert": {
                "workspace_id": channel.workspace_id,
                "channel_id": channel.id,
                "channel_type": channel.type,
                "received_at": now,
                "body": payload.body[:MAX_KEPT_BYTES],
                "truncated": len(payload.body) > MAX_KEPT_BYTES,
                "content_type": payload.content_type,
                "size": len(payload.body),
            },
            "$set": {
                "last_received_at": now,
                "reason": error.message[:500],
                "field": error.field,
                "purge_at": _purge_at(core),
            },
            "$inc": {"deliveries": 1},
        },
        upsert=True,
    )
    log.warning(
        "platform payload kept as a dead letter",
        extra={"channel_id": channel.id, "dead_letter": doc_id, "reason": error.message},
    )
    found = await collection.find_one({"_id": doc_id})
    assert found is not None  # just upserted
    return _out(found)


async def list_dead_letters(
    core: Core, workspace_id: str, limit: int = LIST_LIMIT
) -> list[DeadLetter]:
    """The workspace's dead letters, newest first (replayed ones included, without bytes)."""
    cursor = (
        core.store.collection(COLLECTION)
        .find({"workspace_id": workspace_id})
        .sort([("last_received_at", DESCENDING), ("_id", DESCENDING)])
        .limit(limit)
    )
    return [_out(doc) for doc in await cursor.to_list(limit)]


async def do_replay_dead_letter(core: Core, workspace_id: str, dead_letter_id: str) -> DeadLetter:
    """Run the channel's parse and ingest again on a kept payload.

    Success drops the bytes and records the outcome; a payload that still fails stays, with
    the new reason. Replaying one already replayed changes nothing (and stores nothing).
    """
    collection = core.store.collection(COLLECTION)
    doc = await collection.find_one({"_id": dead_letter_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such dead letter", field="dead_letter_id")
    if doc.get("replayed_at") is not None or doc.get("body") is None:
        return _out(doc)
    if doc.get("truncated"):
        raise InvalidInput(
            f"only the first {MAX_KEPT_BYTES} bytes were kept: it cannot be replayed",
            field="dead_letter_id",
        )
    channel = await get_channel(core, workspace_id, doc["channel_id"])
    channel_type = core.channels.get(channel.type)
    replay: Replay | None = channel_type.replay if channel_type else None
    if replay is None:
        raise InvalidInput(
            f"{channel.type} channels cannot replay payloads", field="dead_letter_id"
        )
    payload = Payload(body=bytes(doc["body"]), content_type=doc.get("content_type"))
    now = core.clock.now()
    try:
        outcome = await replay(core, channel, payload)
    except InvalidInput as exc:
        update: dict[str, Any] = {
            "$set": {"reason": exc.message[:500], "field": exc.field, "last_replay_at": now},
            "$inc": {"replays": 1},
        }
    else:
        update = {
            "$set": {"replayed_at": now, "outcome": outcome, "purge_at": _purge_at(core)},
            "$unset": {"body": ""},
            "$inc": {"replays": 1},
        }
    await collection.update_one({"_id": dead_letter_id, "replayed_at": None}, update)
    found = await collection.find_one({"_id": dead_letter_id})
    assert found is not None
    return _out(found)


feature = Feature(
    name="dead_letters",
    indexes=(
        Index(COLLECTION, (("workspace_id", ASCENDING), ("last_received_at", DESCENDING))),
        Index(COLLECTION, (("purge_at", ASCENDING),), {"expireAfterSeconds": 0}),
    ),
)
