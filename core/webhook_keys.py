"""A document's webhook key: signs the requests of its webhook steps (a bot's, a sequence's)
as API-channel callbacks are signed (`X-Kith-Signature`, `kith.core.signatures`), so the
receiver can tell Kith's calls apart.

Write-only like channel secrets: sealed in the document (`kith.core.sealing`), shown once when
it is made or rotated, never in an answer. A document without one sends unsigned.
"""

from __future__ import annotations

import secrets

from kith.core.collection import RetryingCollection
from kith.core.context import Core
from kith.core.sealing import CLEAR_FIELD, SEALED_FIELD, sealer_for

KEY = "webhook_secret"


async def new_webhook_secret(
    core: Core, collection: RetryingCollection, workspace_id: str, doc_id: str
) -> str | None:
    """A fresh key for the document, replacing the one before (the only time it is shown);
    None if the workspace has no such document."""
    secret = secrets.token_urlsafe(32)
    result = await collection.update_one(
        {"_id": doc_id, "workspace_id": workspace_id},
        {"$set": sealer_for(core).seal({KEY: secret})},
    )
    return secret if result.matched_count else None


async def webhook_secret(core: Core, collection: RetryingCollection, doc_id: str) -> str | None:
    """The document's key; None for one saved before keys existed (until it is rotated)."""
    doc = await collection.find_one({"_id": doc_id}, {CLEAR_FIELD: 1, SEALED_FIELD: 1})
    secret = sealer_for(core).open(doc).get(KEY) if doc else None
    return str(secret) if secret else None
