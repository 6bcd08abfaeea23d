"""The one module that owns the database: client, collection names and indexes.

With `KITH_MONGO_URI` set, Kith talks to that server through PyMongo's `AsyncMongoClient`;
without it, to the embedded in-memory engine (`kith.core.embedded`), which keeps no data.
Everything else reaches collections through a `Store`, never through a client of its own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import OperationFailure

from kith.core.embedded import EmbeddedClient
from kith.core.errors import InvalidInput
from kith.core.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_WARNING = (
    "KITH_MONGO_URI is not set: running on the embedded in-memory engine. "
    "NO DATA IS KEPT when this process stops."
)

# (collection, keys, options): created idempotently at start-up.
INDEXES: list[tuple[str, list[tuple[str, int]], dict[str, Any]]] = [
    ("users", [("email", ASCENDING)], {"unique": True}),
    ("api_tokens", [("token_hash", ASCENDING)], {"unique": True}),
    ("channels", [("workspace_id", ASCENDING), ("type", ASCENDING)], {}),
    ("customers", [("workspace_id", ASCENDING), ("last_seen", DESCENDING)], {}),
    ("customers", [("workspace_id", ASCENDING), ("emails", ASCENDING)], {}),
    ("customers", [("workspace_id", ASCENDING), ("phones", ASCENDING)], {}),
    (
        "identities",
        [("workspace_id", ASCENDING), ("channel_id", ASCENDING), ("external_id", ASCENDING)],
        {"unique": True},
    ),
    ("identities", [("customer_id", ASCENDING)], {}),
    (
        "conversations",
        [("workspace_id", ASCENDING), ("last_message_at", DESCENDING), ("_id", DESCENDING)],
        {},
    ),
    (
        "conversations",
        [("workspace_id", ASCENDING), ("status", ASCENDING), ("last_message_at", DESCENDING)],
        {},
    ),
    (
        "conversations",
        [
            ("workspace_id", ASCENDING),
            ("status", ASCENDING),
            ("waiting_since", ASCENDING),
            ("_id", ASCENDING),
        ],
        {},
    ),
    ("conversations", [("customer_id", ASCENDING)], {}),
    (
        "conversations",
        [
            ("workspace_id", ASCENDING),
            ("channel_id", ASCENDING),
            ("last_message_at", DESCENDING),
            ("_id", DESCENDING),
        ],
        {},
    ),
    (
        "conversations",
        [("workspace_id", ASCENDING), ("assignee_id", ASCENDING), ("last_message_at", DESCENDING)],
        {},
    ),
    ("users", [("workspace_id", ASCENDING)], {}),
    ("teams", [("workspace_id", ASCENDING), ("name", ASCENDING)], {}),
    ("canned_responses", [("workspace_id", ASCENDING), ("shortcut", ASCENDING)], {}),
    (
        "messages",
        [("dedup_key", ASCENDING)],
        {"unique": True, "partialFilterExpression": {"dedup_key": {"$exists": True}}},
    ),
    ("messages", [("conversation_id", ASCENDING), ("created_at", ASCENDING)], {}),
    ("messages", [("customer_id", ASCENDING)], {}),
    ("messages", [("delivery.status", ASCENDING), ("delivery.next_attempt_at", ASCENDING)], {}),
    ("events", [("workspace_id", ASCENDING), ("created_at", ASCENDING)], {}),
    ("events", [("conversation_id", ASCENDING), ("created_at", ASCENDING)], {}),
    ("events", [("customer_id", ASCENDING)], {}),
    # Consumers claim what is still pending for them (kith.core.consumers).
    (
        "events",
        [("pending", ASCENDING), ("created_at", ASCENDING)],
        {"partialFilterExpression": {"pending": {"$exists": True}}},
    ),
    ("events", [("parked", ASCENDING)], {"partialFilterExpression": {"parked": {"$exists": True}}}),
    ("rate_limits", [("expires_at", ASCENDING)], {"expireAfterSeconds": 0}),
    # Expired sessions and login-failure counters are ignored on read;
    # these indexes remove them later. `purge_at` is wall-clock time (the TTL monitor's).
    ("sessions", [("purge_at", ASCENDING)], {"expireAfterSeconds": 0}),
    ("sessions", [("user_id", ASCENDING)], {}),
    ("login_failures", [("purge_at", ASCENDING)], {"expireAfterSeconds": 0}),
    ("timers", [("due_at", ASCENDING)], {}),
    ("timers", [("purge_at", ASCENDING)], {"expireAfterSeconds": 0}),  # given-up one-offs
]


async def existing_ids(
    collection: Any, workspace_id: str, ids: list[str], field: str, noun: str
) -> list[str]:
    """`ids` without repeats, once every one is a document of the workspace: otherwise
    InvalidInput naming the first missing one (`field.N`), before anything is written."""
    wanted = list(dict.fromkeys(ids))
    query = {"_id": {"$in": wanted}, "workspace_id": workspace_id}
    found = set(await collection.distinct("_id", query))
    for n, item in enumerate(wanted):
        if item not in found:
            raise InvalidInput(f"no such {noun} in this workspace", field=f"{field}.{n}")
    return wanted


WRITE_CONFLICT = 112
CONFLICT_ATTEMPTS = 5
# Writes that touch one document: a WriteConflict means the engine rolled the whole command
# back, so running it again is exactly what mongod itself does before answering.
SINGLE_DOCUMENT_WRITES = frozenset(
    {
        "insert_one",
        "update_one",
        "replace_one",
        "delete_one",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
    }
)


class RetryingCollection:
    """A collection whose single-document writes are retried on WriteConflict.

    mongod retries such conflicts inside the server; engines that speak its protocol
    (Amazon DocumentDB, DocumentDB on PostgreSQL, Cosmos DB) hand them to the client, for
    instance when concurrent first messages race for one identity. Everything else is the
    driver's collection, untouched (`raw`).
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def __getattr__(self, name: str) -> Any:
        if name not in SINGLE_DOCUMENT_WRITES:
            return getattr(self.raw, name)
        retried = _retried_on_conflict(self.raw, name)
        setattr(self, name, retried)
        return retried


def _retried_on_conflict(raw: Any, name: str) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(getattr(raw, name))
    async def retried(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return await getattr(raw, name)(*args, **kwargs)
            except OperationFailure as error:
                if error.code != WRITE_CONFLICT or attempt == CONFLICT_ATTEMPTS:
                    raise
            # Jittered, growing pause, so the writers that collided do not collide again.
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 (jitter)

    return retried


@dataclass
class Store:
    """Kith's collections on one database. Collections are attributes, named as stored."""

    client: Any
    db: Any
    embedded: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        # The driver's DEBUG command log prints whole documents: customer data and channel
        # secrets. Kith never lets it through, whatever the root level.
        logging.getLogger("pymongo").setLevel(max(logging.INFO, logging.getLogger().level))
        if settings.mongo_uri:
            client: Any = AsyncMongoClient(settings.mongo_uri, tz_aware=True)
            return cls(client=client, db=client[settings.db_name], embedded=False)
        log.warning(EMBEDDED_WARNING)
        embedded_client = EmbeddedClient()
        return cls(client=embedded_client, db=embedded_client[settings.db_name], embedded=True)

    def __getattr__(self, name: str) -> Any:
        """`store.messages` is the `messages` collection (one object per name, kept)."""
        if name.startswith("_"):
            raise AttributeError(name)
        collection = RetryingCollection(self.db[name])
        setattr(self, name, collection)
        return collection

    async def ensure_indexes(
        self, extra: Sequence[tuple[str, list[tuple[str, int]], dict[str, Any]]] = ()
    ) -> None:
        """Create core's indexes and the installed features' (`extra`); a no-op where they
        already exist."""
        for collection, keys, options in [*INDEXES, *extra]:
            await getattr(self, collection).create_index(keys, **options)

    async def ping(self) -> bool:
        try:
            await self.db.command("ping")
        except Exception:
            log.exception("database ping failed")
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
