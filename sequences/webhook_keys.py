"""Each sequence's webhook key: signs its webhook steps' requests as bot webhooks are signed
(`X-Kith-Signature`, `kith.core.signatures`), so the receiver can tell Kith's calls apart.

Write-only like bot keys: sealed in the sequence's document, shown once when made or rotated
(the API shows it), never in a sequence's answer. A sequence without a key sends unsigned.
"""

from __future__ import annotations

import secrets

from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.sealing import CLEAR_FIELD, SEALED_FIELD, sealer_for
from kith.sequences.store import sequences

KEY = "webhook_secret"


async def new_webhook_secret(core: Core, workspace_id: str, sequence_id: str) -> str:
    """A fresh key for the sequence, replacing the one before; the only time it is shown."""
    secret = secrets.token_urlsafe(32)
    result = await sequences(core).update_one(
        {"_id": sequence_id, "workspace_id": workspace_id},
        {"$set": sealer_for(core).seal({KEY: secret})},
    )
    if not result.matched_count:
        raise NotFound("no such sequence", field="sequence_id")
    return secret


async def webhook_secret(core: Core, sequence_id: str) -> str | None:
    doc = await sequences(core).find_one({"_id": sequence_id}, {CLEAR_FIELD: 1, SEALED_FIELD: 1})
    secret = sealer_for(core).open(doc).get(KEY) if doc else None
    return str(secret) if secret else None
