"""Each bot's webhook key: signs its webhook steps' requests like API-channel callbacks.

Write-only like channel secrets: sealed in the bot's document (`kith.core.sealing`), shown
once when the bot is created or the key is rotated, and never in a bot's answer.
"""

from __future__ import annotations

import secrets

from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.sealing import CLEAR_FIELD, SEALED_FIELD, sealer_for

KEY = "webhook_secret"


async def new_webhook_secret(core: Core, workspace_id: str, bot_id: str) -> str:
    """A fresh key for the bot, replacing the one before; the only time it is shown."""
    secret = secrets.token_urlsafe(32)
    result = await core.store.collection("bots").update_one(
        {"_id": bot_id, "workspace_id": workspace_id},
        {"$set": sealer_for(core).seal({KEY: secret})},
    )
    if not result.matched_count:
        raise NotFound("no such bot", field="bot_id")
    return secret


async def webhook_secret(core: Core, bot_id: str) -> str | None:
    """The bot's key; None for a bot saved before keys existed (until it is rotated)."""
    doc = await core.store.collection("bots").find_one(
        {"_id": bot_id}, {CLEAR_FIELD: 1, SEALED_FIELD: 1}
    )
    secret = sealer_for(core).open(doc).get(KEY) if doc else None
    return str(secret) if secret else None
