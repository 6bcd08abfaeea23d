"""Long polling (`getUpdates`), for bots that cannot receive webhooks.

`kith.core.pollers.PollerSupervisor` makes sure one process polls a channel at a time.
The offset lives in MongoDB (`telegram_offsets`), advanced after each update is stored,
so a restart or a takeover resumes exactly after the last stored update; Telegram keeps
unconfirmed updates for 24 hours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kith.connectors.telegram.client import bot_for
from kith.connectors.telegram.config import TelegramConfig
from kith.connectors.telegram.inbound import ALLOWED_UPDATES, handle_update
from kith.core.dead_letters import Payload, keep_dead_letter
from kith.core.errors import InvalidInput
from kith.core.pollers import PollFailed

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel


async def stored_offset(core: Core, channel_id: str) -> int | None:
    doc = await core.store.collection("telegram_offsets").find_one({"_id": channel_id})
    return int(doc["offset"]) if doc else None


async def advance_offset(core: Core, channel_id: str, offset: int) -> None:
    """`$max`, so a late writer (an old holder finishing its batch) never moves it back."""
    await core.store.collection("telegram_offsets").update_one(
        {"_id": channel_id}, {"$max": {"offset": offset}}, upsert=True
    )


class TelegramPoller:
    """`timeout` is the long-poll wait Telegram holds an empty `getUpdates` open for."""

    def __init__(self, timeout: int = 25, limit: int = 100) -> None:
        self.timeout = timeout
        self.limit = limit

    def wants_polling(self, channel: Channel) -> bool:
        return channel.settings_as(TelegramConfig).mode == "polling"

    async def poll_once(self, core: Core, channel: Channel) -> float:
        """One `getUpdates`; returns 0 to poll again at once (Telegram did the waiting), or
        raises `PollFailed` with why, kept on the channel for its admin."""
        from aiogram.exceptions import (
            TelegramConflictError,
            TelegramNetworkError,
            TelegramRetryAfter,
            TelegramServerError,
            TelegramUnauthorizedError,
        )

        bot = bot_for(core, channel, timeout=self.timeout + 10)
        try:
            updates = await bot.get_updates(
                offset=await stored_offset(core, channel.id),
                limit=self.limit,
                timeout=self.timeout,
                allowed_updates=ALLOWED_UPDATES,
            )
        except TelegramRetryAfter as exc:
            return float(exc.retry_after)
        except TelegramConflictError as exc:
            # Said on the channel by the supervisor (Settings → Channels), which waits longer
            # after each failed poll.
            words = "a webhook or another poller takes the bot's updates"
            raise PollFailed("conflict", words) from exc
        except TelegramUnauthorizedError as exc:
            raise PollFailed("auth_failed", "Telegram rejected the bot token") from exc
        except TelegramNetworkError as exc:
            raise PollFailed("host_unreachable", "Telegram could not be reached") from exc
        except TelegramServerError as exc:
            raise PollFailed("server_refused", "Telegram's servers failed the request") from exc
        for update in updates:
            try:
                await handle_update(core, channel, update)
            except InvalidInput as exc:  # cannot be stored as it is: keep it, do not stall
                body = update.model_dump_json(by_alias=True, exclude_none=True).encode()
                await keep_dead_letter(core, channel, Payload(body=body), exc)
            await advance_offset(core, channel.id, update.update_id + 1)
        return 0.0
