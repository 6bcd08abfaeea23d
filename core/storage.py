"""The one module that owns the database: client, collection names and indexes.

With `KITH_MONGO_URI` set, Kith talks to that server through PyMongo's `AsyncMongoClient`;
without it, to the embedded in-memory engine (`kith.core.embedded`), which keeps no data.
Everything else reaches collections through a `Store`, never through a client of its own:
core's collections are its attributes, a feature's are `store.collection(name)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from kith.core.collection import Collection, Document, IndexOptions, Keys, RetryingCollection
from kith.core.embedded import EmbeddedClient, EmbeddedDatabase
from kith.core.errors import InvalidInput
from kith.core.group_commit import GROUPED_IN_FLIGHT, Grouped, GroupedInserts
from kith.core.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_WARNING = (
    "KITH_MONGO_URI is not set: running on the embedded in-memory engine. "
    "NO DATA IS KEPT when this process stops."
)

# (collection, keys, options): created idempotently at start-up.
INDEXES: list[tuple[str, Keys, IndexOptions]] = [
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
    # One team per folded name (kith.core.teams.name_key); teams stored before it have none.
    (
        "teams",
        [("workspace_id", ASCENDING), ("name_key", ASCENDING)],
        {"unique": True, "partialFilterExpression": {"name_key": {"$exists": True}}},
    ),
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
    # Expired sessions, login-failure counters and known login addresses are ignored on read;
    # these indexes remove them later. `purge_at` is wall-clock time (the TTL monitor's).
    ("sessions", [("purge_at", ASCENDING)], {"expireAfterSeconds": 0}),
    ("sessions", [("user_id", ASCENDING)], {}),
    ("login_failures", [("purge_at", ASCENDING)], {"expireAfterSeconds": 0}),
    ("login_addresses", [("purge_at", ASCENDING)], {"expireAfterSeconds": 0}),
    ("timers", [("due_at", ASCENDING)], {}),
    ("timers", [("purge_at", ASCENDING)], {"expireAfterSeconds": 0}),  # given-up one-offs
]


async def existing_ids(
    collection: Collection, workspace_id: str, ids: list[str], field: str, noun: str
) -> list[str]:
    """`ids` without repeats, once every one is a document of the workspace: otherwise
    InvalidInput naming the first missing one (`field.N`), before anything is written, with
    the reason `no_<noun>` (`no_customer`, `no_team`, `no_user`) as every "no such … in this
    workspace" refusal has (`no_user` for an assignee, `no_segment`, `no_community`)."""
    wanted = list(dict.fromkeys(ids))
    query = {"_id": {"$in": wanted}, "workspace_id": workspace_id}
    found = set(await collection.distinct("_id", query))
    for n, item in enumerate(wanted):
        if item not in found:
            raise InvalidInput(
                f"no such {noun} in this workspace", field=f"{field}.{n}", reason=f"no_{noun}"
            )
    return wanted


class Store:
    """Kith's collections on one database, named as stored. Core's own collections are
    typed attributes; a feature's (bots, a connector's state…) come from `collection()`."""

    def __init__(
        self,
        client: AsyncMongoClient[Document] | EmbeddedClient,
        db: AsyncDatabase[Document] | EmbeddedDatabase,
        embedded: bool,
    ) -> None:
        self.client = client
        self.db = db
        self.embedded = embedded
        self._collections: dict[str, RetryingCollection] = {}
        self._grouped: dict[str, Grouped] = {}
        self._grouped_inserts: dict[str, GroupedInserts] = {}
        # Grouped batches in flight at once, over all collections: callers that arrive
        # meanwhile queue up, so batches fill (docs/benchmarks.md, ingest).
        self._in_flight = asyncio.Semaphore(GROUPED_IN_FLIGHT)
        collection = self.collection
        self.api_tokens = collection("api_tokens")
        self.canned_responses = collection("canned_responses")
        self.channels = collection("channels")
        self.conversations = collection("conversations")
        self.conversation_terms = collection("conversation_terms")
        self.customers = collection("customers")
        self.events = collection("events")
        self.identities = collection("identities")
        self.leases = collection("leases")
        self.login_addresses = collection("login_addresses")
        self.login_failures = collection("login_failures")
        self.messages = collection("messages")
        self.rate_limits = collection("rate_limits")
        self.sessions = collection("sessions")
        self.teams = collection("teams")
        self.timers = collection("timers")
        self.users = collection("users")
        self.workspaces = collection("workspaces")

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        # The driver's DEBUG command log prints whole documents: customer data and channel
        # secrets. Kith never lets it through, whatever the root level.
        logging.getLogger("pymongo").setLevel(max(logging.INFO, logging.getLogger().level))
        if settings.mongo_uri:
            client: AsyncMongoClient[Document] = AsyncMongoClient(settings.mongo_uri, tz_aware=True)
            return cls(client=client, db=client[settings.db_name], embedded=False)
        log.warning(EMBEDDED_WARNING)
        embedded_client = EmbeddedClient()
        return cls(client=embedded_client, db=embedded_client[settings.db_name], embedded=True)

    def collection(self, name: str) -> RetryingCollection:
        """The collection `name` (one object per name, kept): how features reach theirs."""
        found = self._collections.get(name)
        if found is None:
            found = self._collections[name] = RetryingCollection(self.db[name])
        return found

    def grouped(self, name: str) -> Grouped:
        """The collection `name` with group commit (`kith.core.group_commit`): for hot paths
        whose concurrent callers each write or look up one document."""
        found = self._grouped.get(name)
        if found is None:
            unique = [
                tuple(field for field, _ in keys)
                for collection, keys, options in INDEXES
                if collection == name and options.get("unique")
            ]
            found = self._grouped[name] = Grouped(self.collection(name), self._in_flight, unique)
        return found

    def grouped_inserts(self, name: str) -> GroupedInserts:
        """The collection `name` as a set of documents keyed by `_id`, added to with group
        commit (`kith.core.group_commit.GroupedInserts`)."""
        found = self._grouped_inserts.get(name)
        if found is None:
            found = self._grouped_inserts[name] = GroupedInserts(
                self.collection(name), self._in_flight
            )
        return found

    async def ensure_indexes(self, extra: Sequence[tuple[str, Keys, IndexOptions]] = ()) -> None:
        """Create core's indexes and the installed features' (`extra`); a no-op where they
        already exist. Collections are done side by side (a new database's start-up waits for
        the slowest collection, not for every index in turn)."""
        by_collection: dict[str, list[tuple[Keys, IndexOptions]]] = {}
        for collection, keys, options in [*INDEXES, *extra]:
            by_collection.setdefault(collection, []).append((keys, options))
        await asyncio.gather(
            *(self._create_indexes(name, wanted) for name, wanted in by_collection.items())
        )

    async def _create_indexes(self, name: str, wanted: list[tuple[Keys, IndexOptions]]) -> None:
        for keys, options in wanted:
            await self.collection(name).create_index(keys, **options)

    async def ping(self) -> bool:
        try:
            await self.db.command("ping")
        except Exception:
            log.exception("database ping failed")
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
