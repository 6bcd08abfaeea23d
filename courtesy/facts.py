"""What the courtesy policy reads about a batch of customers, read once for the batch.

A sequence pass runs a few hundred due steps at once; asked one customer at a time, the
policy's reads (the customer, the workspace's settings, the identities, their channels, the
conversations that show a Telegram chat was started) cost a round trip each per step, and on
the real engine round trips are the whole cost. `Facts.read` gets them for the batch with one
`$in` query per collection; `decide()` and the step executors look them up here.

The facts are as fresh as the start of the pass (well under a lease): a consent revoked in
between is still refused at delivery, where the outbox checks it again
(`kith.core.marketing`). A caller that changes a customer calls `forget()`, and the next
look-up reads that customer afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kith.core.context import Core
from kith.courtesy.settings import COLLECTION, CourtesySettings

Doc = dict[str, Any]


@dataclass
class Facts:
    core: Core
    customers: dict[str, Doc | None] = field(default_factory=dict)  # None: not stored
    settings: dict[str, CourtesySettings] = field(default_factory=dict)
    identities: dict[str, list[Doc]] = field(default_factory=dict)  # by customer id
    channels: dict[str, Doc] = field(default_factory=dict)  # enabled ones, by id
    conversations: dict[str, list[Doc]] = field(default_factory=dict)  # by customer id

    @classmethod
    async def read(
        cls, core: Core, customer_ids: Iterable[str], workspace_ids: Iterable[str]
    ) -> Facts:
        """The facts of these customers and workspaces: five queries, four of them at once."""
        ids = sorted(set(customer_ids))
        store = core.store
        customers, settings, identities, conversations = await asyncio.gather(
            store.customers.find({"_id": {"$in": ids}}).to_list(None),
            store.collection(COLLECTION)
            .find({"_id": {"$in": sorted(set(workspace_ids))}})
            .to_list(None),
            store.identities.find({"customer_id": {"$in": ids}}).to_list(None),
            store.conversations.find({"customer_id": {"$in": ids}}).to_list(None),
        )
        channel_ids = sorted({i["channel_id"] for i in identities})
        channels = await store.channels.find(
            {"_id": {"$in": channel_ids}, "enabled": True}, {"config": 1, "workspace_id": 1}
        ).to_list(None)
        facts = cls(core)
        facts.customers = dict.fromkeys(ids)
        facts.customers.update({doc["_id"]: doc for doc in customers})
        for doc in settings:
            workspace = doc.pop("_id")
            facts.settings[workspace] = CourtesySettings.model_validate(doc)
        for workspace in workspace_ids:
            facts.settings.setdefault(workspace, CourtesySettings())
        facts.identities = _by_customer(identities, ids)
        facts.channels = {doc["_id"]: doc for doc in channels}
        facts.conversations = _by_customer(conversations, ids)
        return facts

    async def customer(self, customer_id: str) -> Doc | None:
        """The customer's document as stored (None: erased), read again if forgotten."""
        if customer_id not in self.customers:
            self.customers[customer_id] = await self.core.store.customers.find_one(
                {"_id": customer_id}
            )
        return self.customers[customer_id]

    def forget(self, customer_id: str) -> None:
        self.customers.pop(customer_id, None)

    async def settings_of(self, workspace_id: str) -> CourtesySettings:
        if workspace_id not in self.settings:
            doc = await self.core.store.collection(COLLECTION).find_one({"_id": workspace_id})
            if doc is not None:
                doc.pop("_id", None)
            self.settings[workspace_id] = CourtesySettings.model_validate(doc or {})
        return self.settings[workspace_id]

    def identities_of(self, customer_id: str, workspace_id: str, channel_type: str) -> list[Any]:
        """(identity, channel) pairs of that type on enabled channels, latest seen first."""
        usable = [
            (identity, self.channels[identity["channel_id"]])
            for identity in self.identities.get(customer_id, [])
            if identity.get("channel_type") == channel_type
            and identity["channel_id"] in self.channels
            and self.channels[identity["channel_id"]].get("workspace_id") == workspace_id
        ]
        usable.sort(
            key=lambda pair: pair[0].get("last_seen") or pair[0]["created_at"], reverse=True
        )
        return usable

    def conversation(self, customer_id: str, **equal: Any) -> Doc | None:
        """The customer's latest conversation whose fields equal `equal`, if the pass saw it."""
        found = [
            doc
            for doc in self.conversations.get(customer_id, [])
            if all(doc.get(key) == value for key, value in equal.items())
        ]
        return max(found, key=_last_message, default=None)


def _last_message(doc: Doc) -> Any:
    return (doc.get("last_message_at") is not None, doc.get("last_message_at") or 0)


def _by_customer(docs: list[Doc], ids: list[str]) -> dict[str, list[Doc]]:
    grouped: dict[str, list[Doc]] = {customer_id: [] for customer_id in ids}
    for doc in docs:
        grouped.setdefault(doc["customer_id"], []).append(doc)
    return grouped
