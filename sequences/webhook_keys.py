"""Each sequence's webhook key (`kith.core.webhook_keys`): the API shows it once, when it is
made or rotated; a sequence without a key sends unsigned."""

from __future__ import annotations

from kith.core import webhook_keys
from kith.core.context import Core
from kith.core.errors import NotFound
from kith.sequences.store import sequences


async def new_webhook_secret(core: Core, workspace_id: str, sequence_id: str) -> str:
    """A fresh key for the sequence, replacing the one before; the only time it is shown."""
    secret = await webhook_keys.new_webhook_secret(core, sequences(core), workspace_id, sequence_id)
    if secret is None:
        raise NotFound("no such sequence", field="sequence_id")
    return secret


async def webhook_secret(core: Core, sequence_id: str) -> str | None:
    return await webhook_keys.webhook_secret(core, sequences(core), sequence_id)
