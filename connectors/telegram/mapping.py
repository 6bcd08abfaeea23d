"""Telegram's people, chats and message ids as Kith names them (shared by every update kind).

Message ids are per chat in Telegram, hence keys of `"<chat_id>:<message_id>"`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from kith.core.models import GroupRef, InboundUser

if TYPE_CHECKING:
    from aiogram.types import Chat, User
    from aiogram.types import Message as TgMessage


def message_key(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def inbound_user(user: User) -> InboundUser:
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or user.username
    return InboundUser(id=str(user.id), name=name, locale=user.language_code)


def chat_user(chat: Chat) -> InboundUser:
    """A chat speaking as itself (a channel, or a group's anonymous admins)."""
    name = chat.title or " ".join(p for p in (chat.first_name, chat.last_name) if p)
    return InboundUser(id=str(chat.id), name=name or chat.username)


def sender(message: TgMessage) -> InboundUser | None:
    """Who wrote it. A post made on behalf of a chat names that chat in `sender_chat` and
    carries a placeholder user in `from` (@GroupAnonymousBot, @Channel_Bot, 777000) "for
    backward compatibility": the chat is the sender, so those placeholders never become
    one member standing for everyone who posts as a chat."""
    if message.sender_chat is not None:
        return chat_user(message.sender_chat)
    if message.from_user is not None:
        return inbound_user(message.from_user)
    return None


def group_ref(message: TgMessage, bot: str) -> GroupRef | None:
    """The group or channel a message was posted in (None: a private chat), marked when its
    sender is not a member: the chat itself (anonymous admins, channel posts) or the
    discussion group's linked channel (`is_automatic_forward`); and when it speaks to our
    bot (whose user id is `bot`)."""
    chat = message.chat
    if chat.type == "private":
        return None
    automatic = bool(message.is_automatic_forward)
    as_chat = message.sender_chat is not None and message.sender_chat.id == chat.id
    return GroupRef(
        id=str(chat.id),
        title=chat.title,
        kind=chat.type,
        admin=as_chat or chat.type == "channel",
        automatic=automatic,
        forwarded=message.forward_origin is not None and not automatic,
        addressed=addressed(message, bot),
        mentions=mentions(message),
    )


def mentions(message: TgMessage) -> list[str]:
    """The usernames the message names, lowercased without `@`: its `@name` mentions and the
    bot a command is for (`/help@name`)."""
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or []
    names = []
    for entity in entities:
        if entity.type in ("mention", "bot_command"):
            _, at, name = entity.extract_from(text).partition("@")
            if at and name:
                names.append(name.lower()[:64])
    return list(dict.fromkeys(names))[:20]


def addressed(message: TgMessage, bot: str) -> bool:
    """Whether a group message speaks to our bot, as Telegram's privacy mode reads it: a
    reply to one of its messages, a command for every bot (`/help`), or a mention that names
    its user (`text_mention`). A command or mention naming a bot by username (`/help@…`,
    `@…`) is not taken: Kith does not keep its bot's username, and it may be another bot's."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and str(replied.from_user.id) == bot:
        return True
    words = (message.text or "").split(maxsplit=1)
    if words and words[0].startswith("/") and "@" not in words[0]:
        return True
    return any(
        e.type == "text_mention" and e.user is not None and str(e.user.id) == bot
        for e in message.entities or ()
    )


def group_fields(chat: Chat) -> dict[str, str | None]:
    """A `ChannelEvent`'s group_* fields for `chat`."""
    return {"group_id": str(chat.id), "group_name": chat.title, "group_kind": chat.type}


class Outcome(StrEnum):
    """What one update became (for logs and tests; the webhook answers 200 for all)."""

    message = "message"
    edit = "edit"
    button = "button"
    event = "event"
    ignored = "ignored"
    dead_letter = "dead_letter"
