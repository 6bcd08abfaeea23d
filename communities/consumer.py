"""The `community-roster` consumer: turns the channels' membership events and the messages
posted in groups into roster changes (`kith.communities.roster`)."""

from __future__ import annotations

from datetime import datetime

from kith.communities import roster
from kith.communities.models import BotStatus, Community
from kith.communities.roster import Chat, Who
from kith.core.context import Core
from kith.core.models import ChannelEvent, ChannelEventKind, Event
from kith.core.pipeline import channel_event_of

TYPES = (
    "channel.member_joined",
    "channel.member_left",
    "channel.member_updated",
    "channel.bot_added",
    "channel.bot_removed",
    "channel.group_migrated",
    "message.received",
)


async def consume(core: Core, event: Event) -> None:
    if event.type == "message.received":
        await _message(core, event)
        return
    change = channel_event_of(event)
    if change.group_id is None:
        return  # a private follow or start: no group involved
    community = await roster.see(core, _chat(change))
    if community.bot_status == BotStatus.left and change.kind != ChannelEventKind.bot_added:
        return  # a late update from a chat the bot was removed from
    await _apply(core, community, change, event)


async def _apply(core: Core, community: Community, change: ChannelEvent, event: Event) -> None:
    at = change.occurred_at or event.created_at
    who = Who(change.user.id, event.customer_id or "", change.user.name, change.role)
    match change.kind:
        case ChannelEventKind.member_joined:
            await roster.join(core, community, who, at, change.payload, event.id)
        case ChannelEventKind.member_left:
            await roster.leave(core, community, who, at, event.id)
        case ChannelEventKind.member_updated:
            await roster.set_role(core, community, who, at)
        case ChannelEventKind.bot_added:
            admin = change.role in roster.ADMIN_ROLES
            await roster.set_bot_status(
                core, community, BotStatus.admin if admin else BotStatus.member
            )
        case ChannelEventKind.bot_removed:
            await roster.set_bot_status(core, community, BotStatus.left)
        case ChannelEventKind.group_migrated if change.payload:
            await roster.migrate(core, community, change.payload)


async def _message(core: Core, event: Event) -> None:
    group = event.data.get("group")
    if not group or event.message_id is None or event.customer_id is None:
        return
    chat = Chat(
        workspace_id=event.workspace_id,
        channel_id=str(event.data["channel_id"]),
        channel_type=str(event.data.get("channel_type", "")),
        platform_chat_id=str(group["id"]),
        title=group.get("title"),
        kind=group.get("kind"),
    )
    community = await roster.see(core, chat)
    if community.bot_status == BotStatus.left:
        return
    if group.get("admin") or group.get("automatic"):
        return  # the chat itself or its linked channel speaking (`GroupRef`): not a member
    who = Who(str(group["sender"]), event.customer_id, event.actor.name)
    await roster.spoke(core, community, who, _at(event), event.message_id)


def _chat(change: ChannelEvent) -> Chat:
    assert change.group_id is not None
    return Chat(
        workspace_id=change.workspace_id,
        channel_id=change.channel_id,
        channel_type=change.channel_type,
        platform_chat_id=change.group_id,
        title=change.group_name,
        kind=change.group_kind,
    )


def _at(event: Event) -> datetime:
    return event.created_at
