"""Moderation and invitations in a Telegram group (`kith.core.groups.GroupAdmin`), through the
Bot API calls made for them; the bot must be an admin with the matching rights, and Telegram
says so (a non-retryable `DeliveryError`) when it is not."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from kith.connectors.telegram import admins
from kith.connectors.telegram.client import bot_api_errors, bot_for, delivery_error
from kith.connectors.telegram.config import TelegramConfig, bot_id
from kith.core.errors import DeliveryError

if TYPE_CHECKING:
    from aiogram.types import ChatPermissions

    from kith.core.context import Core
    from kith.core.models import Channel

T = TypeVar("T")
NAME_LIMIT = 32
MEMBER_LIMIT = 99_999
ALREADY_GONE = "message to delete not found"
ALREADY_IN = "USER_ALREADY_PARTICIPANT"  # an approval retried after it went through


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DeliveryError(f"{field} {value!r} is not a Telegram id", retryable=False) from None


def telegram_message_id(chat_id: str, message_id: str) -> int:
    """Kith keeps a Telegram message as `"<chat_id>:<message_id>"` (`message_key`); a bare
    message id is taken too. A key from another chat is refused rather than guessed."""
    chat, _, number = message_id.rpartition(":")
    if chat and chat != chat_id:
        raise DeliveryError(f"message {message_id!r} is not in chat {chat_id}", retryable=False)
    return _int(number, "message_id")


def _stamp(at: datetime | None) -> int | None:
    """Unix time, as the Bot API documents it (aiogram would send a datetime as a string)."""
    return int(at.timestamp()) if at is not None else None


def permissions(allowed: bool) -> ChatPermissions:
    """Every right the Bot API lists, all granted or all withheld ("pass True for all
    permissions to lift restrictions from a user": the group's own defaults apply again)."""
    from aiogram.types import ChatPermissions

    return ChatPermissions(**dict.fromkeys(ChatPermissions.model_fields, allowed))


async def _call(call: Awaitable[T]) -> T:
    try:
        return await call
    except bot_api_errors() as exc:
        raise delivery_error(exc) from None


async def _call_unless_done(call: Awaitable[object], done: str) -> None:
    """`call`, where Telegram refusing it with `done` in its words means that an earlier try
    went through (a retried moderation or approval)."""
    from aiogram.exceptions import TelegramBadRequest

    try:
        await call
    except TelegramBadRequest as exc:
        if done not in exc.message:
            raise delivery_error(exc) from None
    except bot_api_errors() as exc:
        raise delivery_error(exc) from None


_NAMES: dict[tuple[str, str], frozenset[str]] = {}  # (channel, bot id) → its username


class TelegramGroupAdmin:
    async def delete_message(
        self, core: Core, channel: Channel, chat_id: str, message_id: str
    ) -> None:
        """deleteMessage; a message already gone counts as deleted (a retried moderation)."""
        bot = bot_for(core, channel)
        number = telegram_message_id(chat_id, message_id)
        await _call_unless_done(bot.delete_message(_int(chat_id, "chat_id"), number), ALREADY_GONE)

    async def restrict(
        self, core: Core, channel: Channel, chat_id: str, user_id: str, until: datetime | None
    ) -> None:
        """restrictChatMember without any right. Telegram reads an `until_date` under 30
        seconds or over 366 days away as "for ever"; None is for ever too."""
        await _call(
            bot_for(core, channel).restrict_chat_member(
                _int(chat_id, "chat_id"),
                _int(user_id, "user_id"),
                permissions(False),
                until_date=_stamp(until),
            )
        )

    async def unrestrict(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        await _call(
            bot_for(core, channel).restrict_chat_member(
                _int(chat_id, "chat_id"), _int(user_id, "user_id"), permissions(True)
            )
        )

    async def ban(
        self, core: Core, channel: Channel, chat_id: str, user_id: str, until: datetime | None
    ) -> None:
        """banChatMember, keeping their past messages (moderation deletes what it means to)."""
        await _call(
            bot_for(core, channel).ban_chat_member(
                _int(chat_id, "chat_id"), _int(user_id, "user_id"), until_date=_stamp(until)
            )
        )

    async def unban(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        """unbanChatMember; `only_if_banned`, or Telegram would remove a member who is in."""
        await _call(
            bot_for(core, channel).unban_chat_member(
                _int(chat_id, "chat_id"), _int(user_id, "user_id"), only_if_banned=True
            )
        )

    async def remove(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        """A ban lifted at once (Telegram has no "kick"); `only_if_banned` keeps the unban
        from touching someone who was not banned after all."""
        bot = bot_for(core, channel)
        chat, user = _int(chat_id, "chat_id"), _int(user_id, "user_id")
        await _call(bot.ban_chat_member(chat, user))
        await _call(bot.unban_chat_member(chat, user, only_if_banned=True))

    async def invite_link(
        self,
        core: Core,
        channel: Channel,
        chat_id: str,
        name: str,
        expire_at: datetime | None,
        member_limit: int | None,
    ) -> str:
        """createChatInviteLink; its name comes back on each `chat_member` join through it."""
        if len(name) > NAME_LIMIT:
            raise DeliveryError(
                f"Telegram invite link names hold at most {NAME_LIMIT} characters",
                retryable=False,
            )
        if member_limit is not None and not 1 <= member_limit <= MEMBER_LIMIT:
            raise DeliveryError(
                f"member_limit must be 1 to {MEMBER_LIMIT} on Telegram", retryable=False
            )
        link = await _call(
            bot_for(core, channel).create_chat_invite_link(
                _int(chat_id, "chat_id"),
                name=name or None,
                expire_date=_stamp(expire_at),
                member_limit=member_limit,
            )
        )
        return link.invite_link

    async def approve_join_request(
        self, core: Core, channel: Channel, chat_id: str, user_id: str
    ) -> None:
        """approveChatJoinRequest; finding them already in counts as approved."""
        approve = bot_for(core, channel).approve_chat_join_request(
            _int(chat_id, "chat_id"), _int(user_id, "user_id")
        )
        await _call_unless_done(approve, ALREADY_IN)

    async def decline_join_request(
        self, core: Core, channel: Channel, chat_id: str, user_id: str
    ) -> None:
        await _call(
            bot_for(core, channel).decline_chat_join_request(
                _int(chat_id, "chat_id"), _int(user_id, "user_id")
            )
        )

    async def title(self, core: Core, channel: Channel, chat_id: str) -> str | None:
        """getChat's title (every update names it too: this is for a chat seen without)."""
        chat = await _call(bot_for(core, channel).get_chat(_int(chat_id, "chat_id")))
        return chat.title

    async def bot_names(self, core: Core, channel: Channel) -> frozenset[str]:
        """getMe's username, asked once per process and bot (a bot's username is fixed; a
        new token may be another bot)."""
        key = (channel.id, bot_id(channel.settings_as(TelegramConfig).bot_token))
        found = _NAMES.get(key)
        if found is None:
            me = await _call(bot_for(core, channel).get_me())
            found = frozenset({me.username.lower()}) if me.username else frozenset()
            _NAMES[key] = found
        return found

    async def administrators(
        self, core: Core, channel: Channel, chat_id: str
    ) -> frozenset[str] | None:
        """getChatAdministrators, kept a while (`kith.connectors.telegram.admins`)."""
        return await admins.administrators(core, channel, chat_id)
