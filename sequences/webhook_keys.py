"""Each sequence's webhook key (`kith.core.webhook_keys`, as bots have): the API shows it once,
when it is made or rotated (`POST …/webhook-secret`); a sequence without a key sends unsigned."""

from __future__ import annotations

from pydantic import BaseModel

from kith.core import webhook_keys
from kith.core.context import Core
from kith.core.errors import NotFound
from kith.sequences.store import sequences


class WebhookSecretOut(BaseModel):
    """Signs the sequence's webhook steps (`X-Kith-Signature`); shown only in this answer."""

    webhook_secret: str


async def new_webhook_secret(core: Core, workspace_id: str, sequence_id: str) -> str:
    """A fresh key for the sequence, replacing the one before; the only time it is shown."""
    secret = await webhook_keys.new_webhook_secret(core, sequences(core), workspace_id, sequence_id)
    if secret is None:
        raise NotFound("no such sequence", field="sequence_id")
    return secret


async def webhook_secret(core: Core, sequence_id: str) -> str | None:
    return await webhook_keys.webhook_secret(core, sequences(core), sequence_id)
