"""Webhooks registered by an older Kith are brought up to date when a process starts.

Telegram fixes a webhook's `allowed_updates` when it is set: a webhook set before Kith asked
for `chat_member` or `chat_join_request` never receives them, so a community's roster and its
join requests stayed silent until an admin happened to save the channel again. At start,
each enabled webhook-mode channel's registration is read (`getWebhookInfo`) and set again
when its URL or its update types fall short of what this version needs. A lease per channel
lets one of several starting processes do it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING

from kith.connectors.telegram.channel import on_created, webhook_url
from kith.connectors.telegram.client import bot_api_errors, bot_for
from kith.connectors.telegram.config import TelegramConfig
from kith.connectors.telegram.inbound import ALLOWED_UPDATES
from kith.core import leases
from kith.core.channel_records import ChannelConfigInvalid, load
from kith.core.errors import InvalidInput
from kith.core.features import Feature
from kith.core.leases import worker_owner

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel

log = logging.getLogger(__name__)

LEASE_SECONDS = 300.0  # a process starting within this after another leaves it be


def feature(core: Core) -> Feature:
    return Feature(name="telegram-webhooks", background=(functools.partial(sync_webhooks, core),))


async def sync_webhooks(core: Core, stop: asyncio.Event) -> None:
    """Once per start (a `kith serve` background task that then ends)."""
    if not core.settings.public_url:
        return
    owner = worker_owner(None)
    docs = await core.store.channels.find({"type": "telegram", "enabled": True}).to_list(None)
    for doc in docs:
        if stop.is_set():
            return
        try:
            await sync_webhook(core, load(core, doc), owner)
        except ChannelConfigInvalid:
            continue  # shown to the admin on the channel; saving it registers it anew
        except (*bot_api_errors(), InvalidInput) as exc:
            log.warning(
                "could not bring a telegram webhook up to date",
                extra={"channel_id": doc["_id"], "error": str(exc)},
            )


async def sync_webhook(core: Core, channel: Channel, owner: str) -> bool:
    """Set the channel's webhook again if Telegram's registration falls short; whether it did."""
    if channel.settings_as(TelegramConfig).mode != "webhook":
        return False
    if not await leases.acquire(core, f"telegram-webhook:{channel.id}", owner, LEASE_SECONDS):
        return False
    info = await bot_for(core, channel).get_webhook_info()
    subscribed = set(info.allowed_updates or ())  # absent: Telegram's default, no chat_member
    if info.url == webhook_url(core, channel) and set(ALLOWED_UPDATES) <= subscribed:
        return False
    await on_created(core, channel)
    log.info("telegram webhook brought up to date", extra={"channel_id": channel.id})
    return True
