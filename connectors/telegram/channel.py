"""The Telegram channel type: config, sender, webhook router, poller and registration."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kith.connectors.telegram.admin import TelegramGroupAdmin
from kith.connectors.telegram.client import bot_api_errors, bot_for, ready
from kith.connectors.telegram.config import SECRET_FIELDS, TelegramConfig, bot_id
from kith.connectors.telegram.inbound import ALLOWED_UPDATES
from kith.connectors.telegram.polling import TelegramPoller
from kith.connectors.telegram.routes import process, router
from kith.connectors.telegram.sender import TelegramSender
from kith.core.channels import Capabilities, ChannelType
from kith.core.errors import InvalidInput

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel

log = logging.getLogger(__name__)


def webhook_url(core: Core, channel: Channel) -> str | None:
    base = core.settings.public_url
    return f"{base.rstrip('/')}/webhooks/telegram/{channel.id}" if base else None


async def on_created(core: Core, channel: Channel) -> None:
    """Point Telegram at Kith: setWebhook (webhook mode) or deleteWebhook (polling mode).

    A rejected token or URL is the creator's to fix, so it is raised as invalid input;
    an unreachable Telegram is only logged (the channel exists; save it again to retry).
    """
    await ready()
    from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError

    settings = channel.settings_as(TelegramConfig)
    bot = bot_for(core, channel)
    context = {"channel_id": channel.id, "bot_id": bot_id(settings.bot_token)}
    try:
        if settings.mode == "polling":
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("telegram webhook removed for polling", extra=context)
            return
        url = webhook_url(core, channel)
        if url is None:
            log.info("KITH_PUBLIC_URL is not set: telegram webhook not registered", extra=context)
            return
        await bot.set_webhook(
            url,
            secret_token=settings.secret_token,
            allowed_updates=ALLOWED_UPDATES,
        )
        log.info("telegram webhook registered", extra={**context, "url": url})
    except TelegramUnauthorizedError:
        raise InvalidInput("Telegram rejected the bot token", field="config.bot_token") from None
    except TelegramBadRequest as exc:
        raise InvalidInput(f"Telegram refused: {exc.message}", field="config") from None
    except bot_api_errors() as exc:
        context["error"] = str(exc)
        log.error("could not reach Telegram to set up the bot", extra=context)


async def on_updated(core: Core, before: Channel, after: Channel) -> None:
    """Tell Telegram again on every config change (setWebhook is idempotent): a new token,
    mode or secret takes effect, and saving retries a setup Telegram could not be reached for."""
    await on_created(core, after)


channel_type = ChannelType(
    name="telegram",
    config_model=TelegramConfig,
    sender=TelegramSender(),
    secret_fields=SECRET_FIELDS,
    capabilities=Capabilities(buttons=True, images=True),
    router=router,
    replay=process,
    on_created=on_created,
    on_updated=on_updated,
    poller=TelegramPoller(),
    group_admin=TelegramGroupAdmin(),
    description="A Telegram bot: private chats and groups, by webhook or long polling.",
    endpoints=(("webhook_url", "/webhooks/telegram/{id}"),),
    translations={
        "zh": {
            "": "Telegram 机器人：私聊与群组，通过 Webhook 或长轮询接收。",
            "bot_token": "@BotFather 给出的令牌（`123456:ABC-…`）。",
            "secret_token": (
                "Telegram 会在 X-Telegram-Bot-Api-Secret-Token 中回传它（未填写时自动生成）。"
            ),
            "mode": "webhook 需要 HTTPS 的 KITH_PUBLIC_URL；polling 不需要。",
            "api_base": "使用本地 Bot API 服务器代替 api.telegram.org。",
        }
    },
)
