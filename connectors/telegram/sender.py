"""Replies to Telegram: text, inline keyboards, photos and documents, within flood limits.

Limits as Telegram publishes them (core.telegram.org/bots/faq#broadcasting-to-users):
about 30 messages a second per bot, one a second per private chat, 20 a minute per group.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from kith.connectors.telegram.client import bot_api_errors, bot_for, delivery_error
from kith.connectors.telegram.config import TelegramConfig, bot_id
from kith.connectors.telegram.mapping import message_key
from kith.core.channels import SendResult
from kith.core.errors import DeliveryDeferred, DeliveryError
from kith.core.outbox import part_sent
from kith.core.ratelimit import reserve_all

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.types import InlineKeyboardMarkup, ReplyParameters
    from aiogram.types import Message as TgMessage

    from kith.core.context import Core
    from kith.core.models import Attachment, Button, Channel, Conversation, Message

PER_BOT = (30, 1.0)
PER_PRIVATE_CHAT = (1, 1.0)
PER_GROUP = (20, 60.0)
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64


def keyboard(buttons: list[Button]) -> InlineKeyboardMarkup | None:
    """One button per row; a URL button opens the link, any other sends its payload back."""
    if not buttons:
        return None
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    rows = []
    for button in buttons:
        if button.url:
            rows.append([InlineKeyboardButton(text=button.label, url=button.url)])
            continue
        data = button.payload or button.label
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise DeliveryError(
                f"button {button.label!r}: Telegram allows at most 64 bytes of callback data",
                retryable=False,
            )
        rows.append([InlineKeyboardButton(text=button.label, callback_data=data)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def limits(channel: Channel, chat_id: int) -> list[tuple[str, int, float]]:
    """Private chats have positive ids, groups and supergroups negative ones."""
    bot = f"telegram:{bot_id(channel.settings_as(TelegramConfig).bot_token)}"
    per_chat = PER_PRIVATE_CHAT if chat_id > 0 else PER_GROUP
    return [(bot, *PER_BOT), (f"{bot}:{chat_id}", *per_chat)]


class TelegramSender:
    """Sends one outbox message as one Bot API call when it can (a captioned file)."""

    async def send(
        self, core: Core, channel: Channel, conversation: Conversation, message: Message
    ) -> SendResult:
        try:
            chat_id = int(conversation.thread_key)
        except ValueError:
            raise DeliveryError("conversation has no Telegram chat id", retryable=False) from None
        markup = keyboard(message.buttons)
        wait = await reserve_all(core, limits(channel, chat_id))
        if wait > 0:
            raise DeliveryDeferred(wait)
        reply = await self._reply_parameters(core, message, chat_id)
        bot = bot_for(core, channel)
        try:
            sent = await self._send(core, bot, chat_id, message, markup, reply)
        except bot_api_errors() as exc:
            raise delivery_error(exc) from None
        if sent is None:  # every part had gone out before a crash: nothing left to send
            return SendResult()
        return SendResult(channel_message_id=message_key(chat_id, sent.message_id))

    async def _send(
        self,
        core: Core,
        bot: Bot,
        chat_id: int,
        message: Message,
        markup: InlineKeyboardMarkup | None,
        reply: ReplyParameters | None,
    ) -> TgMessage | None:
        """Files first, then the text carrying the keyboard; one file takes the text as caption.

        Each part is recorded as it goes out (`delivery.parts_sent`), so a retry after a
        failure part-way sends only the parts that had not gone; None when none was left.
        """
        files = list(message.attachments)
        text = message.text
        if len(files) == 1 and len(text) <= CAPTION_LIMIT:
            return await _send_file(bot, chat_id, files[0], text, markup, reply)
        parts: list[Callable[[ReplyParameters | None], Awaitable[TgMessage]]] = []
        for index, attachment in enumerate(files):
            keys = markup if index == len(files) - 1 and not text else None
            parts.append(functools.partial(_send_file, bot, chat_id, attachment, "", keys))
        chunks = [text[i : i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)]
        for index, chunk in enumerate(chunks):
            keys = markup if index == len(chunks) - 1 else None
            parts.append(functools.partial(_send_text, bot, chat_id, chunk, keys))
        if not parts:
            raise DeliveryError("nothing to send", retryable=False)
        done = message.delivery.parts_sent if message.delivery else 0
        last: TgMessage | None = None
        for index in range(done, len(parts)):
            last = await parts[index](reply if index == 0 else None)
            if len(parts) > 1:
                await part_sent(core, message, index + 1)
        return last

    async def _reply_parameters(
        self, core: Core, message: Message, chat_id: int
    ) -> ReplyParameters | None:
        """`reply_to` names a Kith message; Telegram wants that message's id in this chat."""
        if not message.reply_to:
            return None
        doc = await core.store.messages.find_one(
            {"_id": message.reply_to, "conversation_id": message.conversation_id},
            {"channel_message_id": 1},
        )
        chat, _, message_id = str((doc or {}).get("channel_message_id") or "").partition(":")
        if chat != str(chat_id) or not message_id.isdigit():
            return None
        from aiogram.types import ReplyParameters

        return ReplyParameters(message_id=int(message_id), allow_sending_without_reply=True)


async def _send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    reply: ReplyParameters | None,
) -> TgMessage:
    return await bot.send_message(chat_id, text, reply_markup=markup, reply_parameters=reply)


async def _send_file(
    bot: Bot,
    chat_id: int,
    attachment: Attachment,
    caption: str,
    markup: InlineKeyboardMarkup | None,
    reply: ReplyParameters | None,
) -> TgMessage:
    """An image as a photo, anything else as a document, by Telegram file_id or by URL."""
    source = attachment.file_id or attachment.url
    if not source:
        raise DeliveryError("attachment has neither a file_id nor a URL", retryable=False)
    send = bot.send_photo if attachment.kind == "image" else bot.send_document
    return await send(
        chat_id, source, caption=caption or None, reply_markup=markup, reply_parameters=reply
    )
