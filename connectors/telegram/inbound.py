"""Telegram updates → Kith's normalized messages, edits and channel events.

Shared by the webhook and the poller, so both paths store exactly the same thing. Message
ids are per chat in Telegram, hence dedup keys of `"<chat_id>:<message_id>"`; the thread
key is the chat id, which is also where replies go. Membership updates are `members`'.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from kith.connectors.telegram import members
from kith.connectors.telegram.client import bot_for
from kith.connectors.telegram.config import TelegramConfig, bot_id
from kith.connectors.telegram.mapping import (
    Outcome,
    group_fields,
    group_ref,
    inbound_user,
    message_key,
    sender,
)
from kith.core.errors import InvalidInput
from kith.core.models import Attachment, ChannelEvent, ChannelEventKind, InboundMessage
from kith.core.pipeline import ingest, ingest_edit, ingest_event

if TYPE_CHECKING:
    from aiogram.types import CallbackQuery, Update
    from aiogram.types import Message as TgMessage

    from kith.core.context import Core
    from kith.core.models import Channel

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "channel_post",
    "chat_join_request",
]
"""What setWebhook and getUpdates ask for: `chat_member` only comes when named here (and the
bot is an admin); `chat_join_request` too (the bot needs the right to invite users)."""


# Where the Bot API puts a User, and where a Chat (`new_chat_members` is a list of users).
_USER_KEYS = frozenset({"from", "forward_from", "left_chat_member", "new_chat_members", "via_bot"})
_CHAT_KEYS = frozenset({"chat", "sender_chat", "forward_from_chat"})
_FILL_DEPTH = 6  # update → message → reply_to_message → chat …: deeper is not an Update


def _chat_type(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def _fill(node: object, key: str, depth: int) -> None:
    if isinstance(node, list) and depth < _FILL_DEPTH:
        for item in node:
            _fill(item, key, depth + 1)
        return
    if not isinstance(node, dict) or depth >= _FILL_DEPTH:
        return
    forwarded = node.get("forward_from")
    if isinstance(forwarded, dict) and "first_name" not in forwarded and "title" in forwarded:
        node.setdefault("forward_from_chat", node.pop("forward_from"))  # a channel, not a user
    if key in _USER_KEYS and "first_name" in node:
        node.setdefault("is_bot", False)
    if key in _CHAT_KEYS and "type" not in node and isinstance(node.get("id"), int):
        node["type"] = _chat_type(node["id"])
    if "file_id" in node:  # files predating `file_unique_id` (Bot API 4.5)
        node.setdefault("file_unique_id", node["file_id"])
    if key == "callback_query":
        node.setdefault("chat_instance", "")
    if key in ("inline_query", "callback_query") and isinstance(node.get("id"), int):
        node["id"] = str(node["id"])
    for child_key, child in node.items():
        _fill(child, child_key, depth + 1)


def fill_documented_gaps(update: dict[str, object]) -> dict[str, object]:
    """Fill in what Telegram's documented test updates (core.telegram.org/bots/webhooks,
    "Testing your bot with updates") leave out although the Bot API requires it: `is_bot`
    on users, `type` on chats, files' `file_unique_id`, `chat_instance` on callback queries,
    string query ids; one of
    them names a channel as `forward_from`. Real updates carry all of it; nothing present
    is changed."""
    _fill(update, "", 0)
    return update


def file_path(channel_id: str, file_id: str) -> str:
    """Kith's own route that fetches the file on demand (the bot token never leaves)."""
    return f"/webhooks/telegram/{channel_id}/files/{file_id}"


def attachments(channel_id: str, message: TgMessage) -> list[Attachment]:
    """Attachment metadata only; bytes are fetched through `getFile` when someone asks."""
    found: list[Attachment] = []

    def add(kind: str, file_id: str, size: int | None, mime: str | None, name: str | None) -> None:
        found.append(
            Attachment(
                kind=kind,
                file_id=file_id,
                size=size,
                mime=mime,
                name=name,
                url=file_path(channel_id, file_id),
            )
        )

    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        add("image", largest.file_id, largest.file_size, "image/jpeg", None)
    if message.document:
        d = message.document
        add("file", d.file_id, d.file_size, d.mime_type, d.file_name)
    if message.voice:
        v = message.voice
        add("audio", v.file_id, v.file_size, v.mime_type or "audio/ogg", None)
    if message.audio:
        a = message.audio
        add("audio", a.file_id, a.file_size, a.mime_type, a.file_name or a.title)
    if message.animation:
        g = message.animation
        add("video", g.file_id, g.file_size, g.mime_type, g.file_name)
    elif message.video:
        v2 = message.video
        add("video", v2.file_id, v2.file_size, v2.mime_type, v2.file_name)
    if message.video_note:
        n = message.video_note
        add("video", n.file_id, n.file_size, "video/mp4", None)
    if message.sticker:
        s = message.sticker
        mime = (
            "video/webm"
            if s.is_video
            else "application/x-tgsticker"
            if s.is_animated
            else "image/webp"
        )
        add("sticker", s.file_id, s.file_size, mime, s.emoji)
    return found


def _fallback_text(message: TgMessage) -> str:
    """Content Kith has no attachment kind for, as readable text."""
    if message.location is not None:
        return f"📍 {message.location.latitude}, {message.location.longitude}"
    if message.contact is not None:
        c = message.contact
        return " ".join(p for p in ("👤", c.first_name, c.last_name or "", c.phone_number) if p)
    return ""


def start_payload(text: str | None) -> str | None:
    """`/start`, `/start abc` or `/start@MyBot abc` → "" / "abc"; anything else → None."""
    if not text:
        return None
    command, _, rest = text.partition(" ")
    if command.partition("@")[0] != "/start":
        return None
    return rest.strip()


async def handle_update(core: Core, channel: Channel, update: Update) -> Outcome:
    """Ingest one update; returns only after everything is stored (then it may be acked).

    An update that cannot be mapped (beyond Kith's field limits) is `InvalidInput`.
    """
    try:
        return await _dispatch(core, channel, update)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(f"update cannot be stored: {err['msg']}", field="update") from None


def _edited_at(message: TgMessage) -> datetime | None:
    """When the edit was made (aiogram keeps `edit_date` as Unix seconds)."""
    return datetime.fromtimestamp(message.edit_date, UTC) if message.edit_date else None


async def _dispatch(core: Core, channel: Channel, update: Update) -> Outcome:
    if update.message is not None:
        return await _message(core, channel, update.message)
    if update.edited_message is not None:
        edited = update.edited_message
        text = edited.text or edited.caption or ""
        key = message_key(edited.chat.id, edited.message_id)
        stored = await ingest_edit(core, channel, key, text, _edited_at(edited))
        return Outcome.edit if stored else Outcome.ignored
    if update.callback_query is not None:
        return await _callback(core, channel, update.callback_query)
    if update.chat_member is not None:
        return await members.chat_member(core, channel, update.chat_member)
    if update.my_chat_member is not None:
        return await members.my_chat_member(core, channel, update.my_chat_member)
    if update.chat_join_request is not None:
        return await members.chat_join_request(core, channel, update.chat_join_request)
    if update.channel_post is not None:  # a channel's own post: its community's activity
        return await _message(core, channel, update.channel_post)
    return Outcome.ignored


async def _message(core: Core, channel: Channel, message: TgMessage) -> Outcome:
    if message.new_chat_members or message.left_chat_member:
        return await members.service_membership(core, channel, message)
    if message.migrate_to_chat_id is not None or message.migrate_from_chat_id is not None:
        return await members.migration(core, channel, message)
    user = sender(message)
    text = message.text or message.caption or _fallback_text(message)
    files = attachments(channel.id, message)
    if user is None or (not text and not files):
        return Outcome.ignored  # service messages, polls, dice …: nothing for an inbox
    chat_id = message.chat.id
    reply = message.reply_to_message
    await ingest(
        core,
        channel,
        InboundMessage.on(
            channel,
            channel_message_id=message_key(chat_id, message.message_id),
            user=user,
            thread_key=str(chat_id),
            text=text,
            attachments=files,
            reply_to=message_key(chat_id, reply.message_id) if reply else None,
            sent_at=message.date,
            control=start_payload(message.text) is not None,
            group=group_ref(message, bot_id(channel.settings_as(TelegramConfig).bot_token)),
        ),
    )
    payload = start_payload(message.text)
    if payload is not None:
        group = group_fields(message.chat) if message.chat.type != "private" else {}
        await ingest_event(
            core,
            channel,
            ChannelEvent(
                workspace_id=channel.workspace_id,
                channel_id=channel.id,
                channel_type=channel.type,
                event_id=f"{message_key(chat_id, message.message_id)}:start",
                kind=ChannelEventKind.start,
                user=user,
                thread_key=str(chat_id),  # the chat the command was sent in, as the message
                **group,
                payload=payload or None,
                occurred_at=message.date,
            ),
        )
    return Outcome.message


def _button_label(query: CallbackQuery) -> str | None:
    """The pressed button's label, read back from the keyboard of the message it sat on."""
    markup = getattr(query.message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or []:
        for button in row:
            if button.callback_data == query.data:
                return str(button.text)
    return None


async def _callback(core: Core, channel: Channel, query: CallbackQuery) -> Outcome:
    """A press on one of our inline buttons: a message carrying the button's payload."""
    if query.data is None:
        return Outcome.ignored  # game buttons carry no data
    origin = query.message
    thread = str(origin.chat.id) if origin is not None else str(query.from_user.id)
    received = await ingest(
        core,
        channel,
        InboundMessage.on(
            channel,
            channel_message_id=f"callback:{query.id}",
            user=inbound_user(query.from_user),
            thread_key=thread,
            text=_button_label(query) or query.data,
            payload=query.data,
            reply_to=message_key(origin.chat.id, origin.message_id) if origin else None,
        ),
    )
    if not received.duplicate:
        await _answer(core, channel, query.id)
    return Outcome.button


async def _answer(core: Core, channel: Channel, query_id: str) -> None:
    """Stop the button's spinner; a failure here loses nothing, so it is only logged."""
    from aiogram.exceptions import TelegramAPIError

    try:
        await bot_for(core, channel).answer_callback_query(query_id)
    except TelegramAPIError as exc:
        log.warning(
            "answerCallbackQuery failed",
            extra={"channel_id": channel.id, "error": exc.message},
        )
