"""Who administers a Telegram group, as `getChatAdministrators` says (the creator and every
administrator, bots included), kept per chat in `telegram_admins` for `TTL`.

Moderation asks only for a message that broke a rule, and then at most once per chat per
`TTL` while nothing changes; a refusal is kept as long (answered None: Telegram cannot say),
so a spam wave costs one call, not one per message (the Bot API's ~30 calls a second per bot
are shared with every send). Any `chat_member` update that makes or unmakes an administrator,
and any `my_chat_member`, forgets the list at once, in the webhook's own request (a database
write, no call): a message after a promotion or a demotion is never judged by the list from
before it. Each forgetting bumps the chat's `generation`, and a list asked for under an older
generation is not kept (a slow answer must not bring back what a demotion forgot), in every
process alike."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from kith.connectors.telegram.client import bot_api_errors, bot_for, delivery_error
from kith.core.clock import aware

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel

log = logging.getLogger(__name__)

ADMINS = "telegram_admins"
TTL = timedelta(minutes=10)
STATUSES = frozenset({"creator", "administrator"})


def _key(channel: Channel, chat_id: int | str) -> str:
    return f"{channel.id}:{chat_id}"


async def forget(core: Core, channel: Channel, chat_id: int | str) -> None:
    """The chat's administrators changed: the next question asks Telegram again."""
    await core.store.collection(ADMINS).update_one(
        {"_id": _key(channel, chat_id)},
        {"$inc": {"generation": 1}, "$set": {"asked_at": None}},
        upsert=True,
    )


async def administrators(core: Core, channel: Channel, chat_id: str) -> frozenset[str] | None:
    """The ids of the chat's creator and administrators (None: Telegram would not say).
    A retryable failure raises `DeliveryError`, for the consumer's retry."""
    kept = core.store.collection(ADMINS)
    doc = await kept.find_one({"_id": _key(channel, chat_id)}) or {}
    now = core.clock.now()
    asked_at = doc.get("asked_at")
    if asked_at is not None and now - aware(asked_at) < TTL:
        found = doc.get("ids")
        return frozenset(found) if found is not None else None
    ids = await _ask(core, channel, chat_id)
    await _keep(kept, _key(channel, chat_id), doc.get("generation"), ids, now)
    return ids


async def _ask(core: Core, channel: Channel, chat_id: str) -> frozenset[str] | None:
    try:
        found = await bot_for(core, channel).get_chat_administrators(int(chat_id))
    except bot_api_errors() as exc:
        error = delivery_error(exc)
        if error.retryable:
            raise error from None
        log.warning(
            "getChatAdministrators refused",
            extra={"channel_id": channel.id, "error": error.message},
        )
        return None
    return frozenset(str(m.user.id) for m in found if str(m.status) in STATUSES)


async def _keep(
    kept: Any, key: str, generation: int | None, ids: frozenset[str] | None, now: datetime
) -> None:
    """Kept only under the generation it was asked in (see the module)."""
    fields = {"ids": sorted(ids) if ids is not None else None, "asked_at": now}
    if generation is None:
        try:
            await kept.update_one(
                {"_id": key, "generation": {"$exists": False}}, {"$set": fields}, upsert=True
            )
        except DuplicateKeyError:
            pass  # forgotten meanwhile: the next question asks again
        return
    await kept.update_one({"_id": key, "generation": generation}, {"$set": fields})
