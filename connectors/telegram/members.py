"""Who is in a group, from Telegram's updates: `chat_member`, `my_chat_member`, the
`new_chat_members` / `left_chat_member` service messages and group migrations, as
`ChannelEvent`s with ids derived from the update's content (a redelivery records nothing
twice, by webhook or by polling).

One join, one event. Telegram reports a join twice when the bot is an administrator: a
`chat_member` update (which names the invite link, the attribution) and, unless the group
hides them, a service message (which does not). Kith records membership from `chat_member`
wherever the bot receives it, and from service messages only where it does not, so the
roster never takes the link-less copy first and drops the link: the bot receives
`chat_member` exactly where it is an administrator (we always ask for it in
`allowed_updates`). What the bot is in each chat is kept per channel in `telegram_chats`,
learnt from `my_chat_member` (and from any `chat_member` update, proof of admin rights); for
a chat Kith has heard nothing of (the bot was an admin before the channel asked for those
updates) it asks Telegram once (`getChatMember` on the bot). If Telegram cannot say, the
service message is recorded: a join without its link beats a lost join, and the roster's
`join`, a no-op for a member, absorbs the second copy.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from kith.connectors.telegram import admins
from kith.connectors.telegram.client import bot_api_errors, bot_for
from kith.connectors.telegram.config import TelegramConfig, bot_id
from kith.connectors.telegram.mapping import (
    Outcome,
    chat_user,
    group_fields,
    inbound_user,
    message_key,
    sender,
)
from kith.core.models import ChannelEvent, ChannelEventKind, InboundUser
from kith.core.pipeline import ingest_event

if TYPE_CHECKING:
    from aiogram.types import Chat, ChatJoinRequest, ChatMemberUpdated
    from aiogram.types import Message as TgMessage

    from kith.core.context import Core
    from kith.core.models import Channel

log = logging.getLogger(__name__)

CHATS = "telegram_chats"
PRESENT = frozenset({"creator", "administrator", "member"})
GETS_CHAT_MEMBER = frozenset({"creator", "administrator"})


def is_present(member: Any) -> bool:
    """In the chat: any status but left/kicked, and a restricted member still inside."""
    status = str(member.status)
    return status in PRESENT or (status == "restricted" and bool(member.is_member))


async def _ingest(
    core: Core,
    channel: Channel,
    kind: ChannelEventKind,
    event_id: str,
    user: InboundUser,
    chat: Chat,
    at: datetime,
    **fields: Any,
) -> None:
    """A membership change in `chat`, as the channel event the pipeline records once."""
    event = ChannelEvent(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        channel_type=channel.type,
        event_id=event_id,
        kind=kind,
        user=user,
        thread_key=str(chat.id),
        occurred_at=at,
        **{**group_fields(chat), **fields},
    )
    await ingest_event(core, channel, event)


async def chat_member(core: Core, channel: Channel, change: ChatMemberUpdated) -> Outcome:
    """A member's status changed: in → out is a leave, out → in a join (with the invite
    link's name as `payload`), and a change while in (a promotion, a demotion, a
    restriction) an update of their `role`. Who administers the chat is asked again after
    any change that makes or unmakes an administrator (`kith.connectors.telegram.admins`)."""
    await _bot_gets_chat_member(core, channel, change.chat.id)
    old, new = change.old_chat_member, change.new_chat_member
    if {str(old.status), str(new.status)} & admins.STATUSES and old.status != new.status:
        await admins.forget(core, channel, change.chat.id)
    if new.user.is_bot or str(old.status) == str(new.status):
        return Outcome.ignored
    if is_present(old) and is_present(new):
        kind = ChannelEventKind.member_updated
    elif is_present(old) == is_present(new):
        return Outcome.ignored  # out → out (left → kicked …): nothing for the roster
    else:
        kind = ChannelEventKind.member_joined if is_present(new) else ChannelEventKind.member_left
    link = change.invite_link.name if change.invite_link is not None else None
    key = f"{change.chat.id}:member:{new.user.id}:{int(change.date.timestamp())}:{kind.value}"
    if kind == ChannelEventKind.member_updated:
        key = f"{key}:{new.status}"
    await _ingest(
        core,
        channel,
        kind,
        key,
        inbound_user(new.user),
        change.chat,
        change.date,
        role=str(new.status),
        payload=link if kind == ChannelEventKind.member_joined else None,
    )
    return Outcome.event


async def my_chat_member(core: Core, channel: Channel, change: ChatMemberUpdated) -> Outcome:
    """Our bot was added, promoted, demoted or removed in a group or channel. In a private
    chat this is a user blocking or unblocking the bot: not a community, ignored."""
    if change.chat.type == "private":
        return Outcome.ignored
    new = change.new_chat_member
    status = str(new.status)
    await _note_bot_status(core, channel, change.chat.id, status, change.date)
    await admins.forget(core, channel, change.chat.id)  # the bot's own rights changed
    if str(change.old_chat_member.status) == status:
        return Outcome.ignored
    present = is_present(new)
    kind = ChannelEventKind.bot_added if present else ChannelEventKind.bot_removed
    key = f"{change.chat.id}:bot:{int(change.date.timestamp())}:{status}"
    user = inbound_user(change.from_user)
    await _ingest(core, channel, kind, key, user, change.chat, change.date, role=status)
    return Outcome.event


async def chat_join_request(core: Core, channel: Channel, request: ChatJoinRequest) -> Outcome:
    """Someone asked to join through a link that needs approval (`creates_join_request`):
    one `join_requested` event, the link's name (else its URL) as `payload`. Not a join: once
    approved, the `chat_member` update that follows is the join, with the same link."""
    link = request.invite_link
    key = f"{request.chat.id}:join_request:{request.from_user.id}:{int(request.date.timestamp())}"
    user = inbound_user(request.from_user)
    name = (link.name or link.invite_link) if link is not None else None
    kind = ChannelEventKind.join_requested
    await _ingest(core, channel, kind, key, user, request.chat, request.date, payload=name)
    return Outcome.event


async def service_membership(core: Core, channel: Channel, message: TgMessage) -> Outcome:
    """`new_chat_members` / `left_chat_member`: people only (bots, ours included, are not
    customers; our own standing comes from `my_chat_member`), and only where the bot gets no
    `chat_member` updates (the module's docstring says why)."""
    if await gets_chat_member(core, channel, message.chat.id):
        return Outcome.ignored
    changes = [(ChannelEventKind.member_joined, u) for u in message.new_chat_members or []]
    if message.left_chat_member is not None:
        changes.append((ChannelEventKind.member_left, message.left_chat_member))
    key = message_key(message.chat.id, message.message_id)
    recorded = False
    for kind, member in changes:
        if member.is_bot:
            continue
        event_id = f"{key}:{kind.value}:{member.id}"
        user = inbound_user(member)
        await _ingest(core, channel, kind, event_id, user, message.chat, message.date)
        recorded = True
    return Outcome.event if recorded else Outcome.ignored


async def migration(core: Core, channel: Channel, message: TgMessage) -> Outcome:
    """A group became a supergroup. Telegram says so twice, `migrate_to_chat_id` in the old
    chat and `migrate_from_chat_id` in the new one: both make the one event (same id), named
    by the old chat, its `payload` the new chat id."""
    from aiogram.types import Chat

    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return Outcome.ignored
    old_chat = Chat(id=old, type="group", title=message.chat.title)
    await _ingest(
        core,
        channel,
        ChannelEventKind.group_migrated,
        f"migrate:{old}:{new}",
        sender(message) or chat_user(message.chat),
        old_chat,
        message.date,
        payload=str(new),
    )
    return Outcome.event


async def gets_chat_member(core: Core, channel: Channel, chat_id: int) -> bool:
    """Does the bot receive `chat_member` updates from this chat (is it an admin there)?"""
    doc = await core.store.collection(CHATS).find_one({"_id": f"{channel.id}:{chat_id}"})
    status = (
        doc.get("bot_status") if doc is not None else await _ask_bot_status(core, channel, chat_id)
    )
    return status in GETS_CHAT_MEMBER


async def _ask_bot_status(core: Core, channel: Channel, chat_id: int) -> str | None:
    """The bot's status from Telegram, kept undated (any `my_chat_member` overrides it)."""
    me = int(bot_id(channel.settings_as(TelegramConfig).bot_token))
    try:
        member = await bot_for(core, channel).get_chat_member(chat_id, me)
    except bot_api_errors() as exc:
        log.warning(
            "getChatMember on the bot failed", extra={"channel_id": channel.id, "error": str(exc)}
        )
        return None
    status = str(member.status)
    await core.store.collection(CHATS).update_one(
        {"_id": f"{channel.id}:{chat_id}"},
        {"$setOnInsert": {"bot_status": status, "date": None, "channel_id": channel.id}},
        upsert=True,
    )
    return status


async def _note_bot_status(
    core: Core, channel: Channel, chat_id: int, status: str, at: datetime
) -> None:
    """The bot's latest status in the chat; an older `my_chat_member` arriving late (updates
    are not ordered across redeliveries) does not overwrite a newer one."""
    chats = core.store.collection(CHATS)
    key = f"{channel.id}:{chat_id}"
    fields = {"bot_status": status, "date": at, "channel_id": channel.id}
    match = {"_id": key, "$or": [{"date": None}, {"date": {"$lte": at}}]}
    done = await chats.update_one(match, {"$set": fields})
    if done.matched_count:
        return
    try:
        await chats.insert_one({"_id": key, **fields})
    except DuplicateKeyError:
        pass  # a newer status is stored already


async def _bot_gets_chat_member(core: Core, channel: Channel, chat_id: int) -> None:
    """A `chat_member` update proves admin rights; it never overrides what `my_chat_member`
    said (a late one after a demotion must not silence the service messages)."""
    await core.store.collection(CHATS).update_one(
        {"_id": f"{channel.id}:{chat_id}"},
        {"$setOnInsert": {"bot_status": "administrator", "date": None, "channel_id": channel.id}},
        upsert=True,
    )
