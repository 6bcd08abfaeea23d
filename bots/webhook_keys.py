"""Each bot's webhook key (`kith.core.webhook_keys`): shown once when the bot is created or
the key is rotated."""

from __future__ import annotations

from kith.core import webhook_keys
from kith.core.context import Core
from kith.core.errors import NotFound

BOTS = "bots"


async def new_webhook_secret(core: Core, workspace_id: str, bot_id: str) -> str:
    """A fresh key for the bot, replacing the one before; the only time it is shown."""
    bots = core.store.collection(BOTS)
    secret = await webhook_keys.new_webhook_secret(core, bots, workspace_id, bot_id)
    if secret is None:
        raise NotFound("no such bot", field="bot_id")
    return secret


async def webhook_secret(core: Core, bot_id: str) -> str | None:
    """The bot's key; None for a bot saved before keys existed (until it is rotated)."""
    return await webhook_keys.webhook_secret(core, core.store.collection(BOTS), bot_id)
