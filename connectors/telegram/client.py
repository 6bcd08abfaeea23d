"""aiogram's `Bot` for a channel, and its errors as Kith's, without importing aiogram early.

Importing aiogram costs seconds of CPU (~300 pydantic models), so nothing here does at
module level: every `kith` command and test process that never talks to Telegram is spared
it. `bot_for` imports it when a bot is first needed (`kith.connectors.telegram.session`);
a serving process imports it before it serves, in a thread (`import_aiogram`, the channel's
`Feature.prepare`), so that the first update does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from typing import TYPE_CHECKING

import httpx

from kith.connectors.telegram.config import TelegramConfig
from kith.core.errors import DeliveryError

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.exceptions import ClientDecodeError, TelegramAPIError

    from kith.core.context import Core
    from kith.core.models import Channel


BOT_TOKEN_IN_URL = re.compile(r"/(file/)?bot(\d+):[A-Za-z0-9_-]+")
SESSION_MODULE = "kith.connectors.telegram.session"


class RedactBotTokens(logging.Filter):
    """httpx logs every request URL at INFO, and Bot API URLs carry the bot token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                BOT_TOKEN_IN_URL.sub(r"/\1bot\2:<redacted>", str(a))
                if isinstance(a, httpx.URL | str)
                else a
                for a in record.args
            )
        return True


def _install_redaction() -> None:
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, RedactBotTokens) for f in httpx_log.filters):
        httpx_log.addFilter(RedactBotTokens())


_install_redaction()


def import_aiogram() -> None:
    """Import aiogram and Kith's session on it: blocking, seconds of CPU (`Feature.prepare`)."""
    import kith.connectors.telegram.session  # noqa: F401 (imported for its side effect)


async def ready() -> None:
    """aiogram imported off the event loop, for a path a process serving without workers
    (which skips `prepare`) may reach first: an inbound update, a file, a channel's setup."""
    if SESSION_MODULE not in sys.modules:
        await asyncio.to_thread(import_aiogram)


def bot_for(core: Core, channel: Channel, timeout: float = 15.0) -> Bot:
    """A `Bot` for the channel; cheap to build (no connection of its own)."""
    from kith.connectors.telegram.session import make_bot

    settings = channel.settings_as(TelegramConfig)
    return make_bot(core.http, settings.bot_token, settings.api_url, timeout)


def bot_api_errors() -> tuple[type[TelegramAPIError], type[ClientDecodeError]]:
    """What a failed Bot API call raises, for an `except` clause: Telegram's refusals and an
    answer that is not the Bot API. An `except` clause is evaluated only once something was
    raised, by when the Bot API call has (almost always) imported aiogram already."""
    from aiogram.exceptions import ClientDecodeError, TelegramAPIError

    return TelegramAPIError, ClientDecodeError


def delivery_error(exc: TelegramAPIError | ClientDecodeError) -> DeliveryError:
    """Map aiogram's error classes onto retry / give up, keeping Telegram's description."""
    from aiogram.exceptions import (
        ClientDecodeError,
        RestartingTelegram,
        TelegramMigrateToChat,
        TelegramNetworkError,
        TelegramRetryAfter,
        TelegramServerError,
    )

    if isinstance(exc, TelegramRetryAfter):
        return DeliveryError(
            f"Telegram flood control: retry after {exc.retry_after}s",
            retry_after=float(exc.retry_after),
        )
    if isinstance(exc, TelegramMigrateToChat):
        return DeliveryError(
            f"the group became supergroup {exc.migrate_to_chat_id}; reply in the new chat",
            retryable=False,
        )
    if isinstance(exc, TelegramNetworkError | TelegramServerError | RestartingTelegram):
        return DeliveryError(f"Telegram unreachable: {exc.message}")
    if isinstance(exc, ClientDecodeError):
        return DeliveryError("Telegram answered something that is not the Bot API")
    return DeliveryError(f"Telegram refused: {exc.message}", retryable=False)
