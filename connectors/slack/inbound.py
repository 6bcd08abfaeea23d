"""Slack events and button presses mapped onto Kith's inbound model.

Dedup keys are chosen so that Slack's retries (`X-Slack-Retry-Num`) are simply processed
again and collapse in the pipeline, never dropped: a retry after a failed first delivery
still gets stored once.
- a message is `"{slack channel}:{ts}"`: stable across retries, the same for the
  `message.channels` and `app_mention` events Slack sends for one mention, and what
  `message_changed` / `message_deleted` name, so edits find their message;
- a membership event is the envelope's `event_id`;
- a button press is the interaction's `trigger_id` and the element's `action_id`.

A message in a channel (public or private) names it as its `GroupRef` (kind `slack_channel`),
so the channel is a community with a roster; direct messages, one-to-one or group DMs, do not.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from kith.connectors.slack.payloads import (
    BlockActions,
    ChannelRename,
    EventCallback,
    InnerEvent,
    MemberEvent,
    SlackFile,
    SlackMessage,
)
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.models import (
    Attachment,
    Channel,
    ChannelEvent,
    ChannelEventKind,
    GroupRef,
    InboundMessage,
    InboundUser,
)
from kith.core.pipeline import ingest, ingest_delete, ingest_edit, ingest_event

log = logging.getLogger(__name__)
Parsed = TypeVar("Parsed", bound=BaseModel)

# Message subtypes that carry something a person said; the rest (joins, topic changes,
# bot_message …) are known and ignored.
SPOKEN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
MEMBERSHIP = {
    "member_joined_channel": ChannelEventKind.member_joined,
    "member_left_channel": ChannelEventKind.member_left,
}
BOT_MEMBERSHIP = {  # our own bot's
    "member_joined_channel": ChannelEventKind.bot_added,
    "member_left_channel": ChannelEventKind.bot_removed,
}
RENAMES = frozenset({"channel_rename", "group_rename"})  # public, private channel
GROUP_KIND = "slack_channel"
# `channel_type` of message events; `app_mention` has none, so the id's prefix decides
# (C public channel, G private channel or an old group DM, D a DM).
CHANNEL_TYPES = frozenset({"channel", "group"})


class Outcome(StrEnum):
    stored = "stored"
    duplicate = "duplicate"
    edited = "edited"
    deleted = "deleted"
    event = "event"
    ignored = "ignored"
    dead_letter = "dead_letter"


def thread_key(slack_channel: str, ts: str, thread_ts: str | None, direct: bool) -> str:
    """Where replies go: a DM is one conversation; elsewhere each thread is one."""
    if direct and thread_ts is None:
        return slack_channel
    return f"{slack_channel}:{thread_ts or ts}"


def message_id(slack_channel: str, ts: str) -> str:
    return f"{slack_channel}:{ts}"


def _parse(model: type[Parsed], data: object) -> Parsed:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in ("event", *err["loc"]))
        raise InvalidInput(err["msg"], field=field) from None


def _sent_at(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), tz=UTC)


def _attachment(file: SlackFile) -> Attachment:
    major = (file.mimetype or "").partition("/")[0]
    name = file.name or file.title
    return Attachment(
        kind=major if major in ("image", "audio", "video") else "file",
        name=name[:512] if name else None,
        size=file.size,
        mime=file.mimetype[:255] if file.mimetype else None,
        file_id=file.id,
        url=file.url_private if file.url_private and len(file.url_private) <= 4096 else None,
    )


def _user(user_id: str, message: SlackMessage | None = None) -> InboundUser:
    profile = message.user_profile if message else None
    name = (profile.real_name or profile.display_name) if profile else None
    avatar = profile.image_72 if profile else None
    return InboundUser(
        id=user_id,
        name=name[:256] if name else None,
        avatar_url=avatar if avatar and len(avatar) <= 4096 else None,
    )


def group_ref(message: SlackMessage, bot_users: set[str]) -> GroupRef | None:
    """The channel a message was posted in (None for DMs), and whether it mentions our bot
    (`<@U…>` of one of the bot users the event is authorized for): bots answer only those
    in a channel."""
    assert message.channel is not None
    kind = message.channel_type
    in_channel = kind in CHANNEL_TYPES if kind else message.channel[:1] in ("C", "G")
    if not in_channel:
        return None
    mentioned = any(f"<@{user}>" in message.text for user in bot_users)
    return GroupRef(id=message.channel, kind=GROUP_KIND, addressed=mentioned)


def _from_bot(message: SlackMessage, bot_users: set[str]) -> bool:
    """Our own echoes and every other bot: Kith's customers are people."""
    return bool(message.bot_id or message.subtype == "bot_message" or (message.user in bot_users))


async def handle_event(core: Core, channel: Channel, callback: EventCallback) -> Outcome:
    """Route one `event_callback` to the pipeline; unknown event types are ignored."""
    bot_users = {a.user_id for a in callback.authorizations if a.is_bot and a.user_id}
    try:
        kind = InnerEvent.model_validate(callback.event).type
    except ValidationError:
        raise InvalidInput("event has no type", field="event.type") from None
    if kind in ("message", "app_mention"):
        return await _on_message(core, channel, _parse(SlackMessage, callback.event), bot_users)
    if kind in MEMBERSHIP:
        member = _parse(MemberEvent, callback.event)
        return await _on_member(core, channel, callback, member, bot_users)
    if kind in RENAMES:
        return await _on_rename(core, channel, callback, _parse(ChannelRename, callback.event))
    log.info("slack event ignored", extra={"channel_id": channel.id, "event_type": kind})
    return Outcome.ignored


async def _on_message(
    core: Core, channel: Channel, message: SlackMessage, bot_users: set[str]
) -> Outcome:
    if message.channel is None:
        raise InvalidInput("message event without a channel", field="event.channel")
    if message.subtype == "message_changed":
        return await _on_edit(core, channel, message.channel, message, bot_users)
    if message.subtype == "message_deleted":
        if message.deleted_ts is None:
            raise InvalidInput("message_deleted without deleted_ts", field="event.deleted_ts")
        found = await ingest_delete(core, channel, message_id(message.channel, message.deleted_ts))
        return Outcome.deleted if found else Outcome.ignored
    if message.subtype not in SPOKEN_SUBTYPES or _from_bot(message, bot_users):
        return Outcome.ignored
    if not message.user or message.ts is None:
        raise InvalidInput("message event without user or ts", field="event.user")
    if not message.text.strip() and not message.files:
        return Outcome.ignored
    direct = message.channel_type == "im"
    received = await ingest(
        core,
        channel,
        InboundMessage.on(
            channel,
            channel_message_id=message_id(message.channel, message.ts),
            user=_user(message.user, message),
            thread_key=thread_key(message.channel, message.ts, message.thread_ts, direct),
            text=message.text,
            attachments=[_attachment(f) for f in message.files[:50]],
            reply_to=(
                message_id(message.channel, message.thread_ts)
                if message.thread_ts and message.thread_ts != message.ts
                else None
            ),
            sent_at=_sent_at(message.ts),
            group=group_ref(message, bot_users),
        ),
    )
    return Outcome.duplicate if received.duplicate else Outcome.stored


async def _on_edit(
    core: Core, channel: Channel, slack_channel: str, event: SlackMessage, bot_users: set[str]
) -> Outcome:
    """The edited message names itself by `ts`; some payloads carry that only on
    `previous_message` (slack-bolt's fixture does). Without either, nothing can be matched."""
    edited = event.message
    if edited is None:
        return Outcome.ignored
    ts = edited.ts or (event.previous_message.ts if event.previous_message else None)
    if ts is None or _from_bot(edited, bot_users):
        return Outcome.ignored
    when = _sent_at(edited.edited.ts) if edited.edited else None  # only newer edits replace
    stored = await ingest_edit(core, channel, message_id(slack_channel, ts), edited.text, when)
    return Outcome.edited if stored else Outcome.ignored


def _member_event_id(callback: EventCallback, member: MemberEvent) -> str:
    if callback.event_id:
        return callback.event_id
    if member.event_ts:
        return f"{member.type}:{member.channel}:{member.user}:{member.event_ts}"
    raise InvalidInput("membership event without event_id or event_ts", field="event_id")


async def _on_member(
    core: Core,
    channel: Channel,
    callback: EventCallback,
    member: MemberEvent,
    bot_users: set[str],
) -> Outcome:
    """A member joined or left a channel. Our own bot's joins and leaves are `bot_added` /
    `bot_removed`, told by whoever invited it, else by the channel itself (never by the bot:
    it is no customer); Slack's events name neither a role nor the channel's name."""
    ours = member.user in bot_users
    if ours:
        kind = BOT_MEMBERSHIP[member.type]
        user = InboundUser(id=member.inviter or member.channel)
    else:
        kind = MEMBERSHIP[member.type]
        user = InboundUser(id=member.user)
    recorded = await ingest_event(
        core,
        channel,
        ChannelEvent(
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            channel_type=channel.type,
            event_id=_member_event_id(callback, member),
            kind=kind,
            user=user,
            thread_key=member.channel,  # the channel itself, outside any thread
            group_id=member.channel,
            group_kind=GROUP_KIND,
            role="member" if ours and kind == ChannelEventKind.bot_added else None,
            occurred_at=(
                datetime.fromtimestamp(callback.event_time, tz=UTC) if callback.event_time else None
            ),
        ),
    )
    return Outcome.event if recorded else Outcome.duplicate


async def _on_rename(
    core: Core, channel: Channel, callback: EventCallback, rename: ChannelRename
) -> Outcome:
    """A channel's new name, as `group_renamed` (told by the channel itself: the event names
    no one). Slack sends it to apps subscribed to `channel_rename` / `group_rename`."""
    slack_channel = rename.channel.id
    recorded = await ingest_event(
        core,
        channel,
        ChannelEvent(
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            channel_type=channel.type,
            event_id=callback.event_id or f"{rename.type}:{slack_channel}:{rename.channel.name}",
            kind=ChannelEventKind.group_renamed,
            user=InboundUser(id=slack_channel),
            thread_key=slack_channel,
            group_id=slack_channel,
            group_name=rename.channel.name,
            group_kind=GROUP_KIND,
            occurred_at=(
                datetime.fromtimestamp(callback.event_time, tz=UTC) if callback.event_time else None
            ),
        ),
    )
    return Outcome.event if recorded else Outcome.duplicate


async def handle_block_actions(core: Core, channel: Channel, actions: BlockActions) -> Outcome:
    """Each pressed button with a value becomes a message carrying that value as `payload`."""
    slack_channel = (actions.channel.id if actions.channel else None) or (
        actions.container.channel_id
    )
    ts = (actions.message.ts if actions.message else None) or actions.container.message_ts
    if slack_channel is None or ts is None:  # a press in a modal or on the home tab
        return Outcome.ignored
    thread_ts = (actions.message.thread_ts if actions.message else None) or (
        actions.container.thread_ts
    )
    key = thread_key(slack_channel, ts, thread_ts, direct=slack_channel.startswith("D"))
    user = InboundUser(id=actions.user.id, name=(actions.user.name or actions.user.username))
    outcome = Outcome.ignored
    for action in actions.actions:
        if action.type != "button" or not action.value:
            continue  # URL buttons and other elements carry nothing for Kith
        received = await ingest(
            core,
            channel,
            InboundMessage.on(
                channel,
                channel_message_id=f"action:{actions.trigger_id}:{action.action_id}"[:512],
                user=user,
                thread_key=key,
                text=action.text.text if action.text else action.value,
                payload=action.value[:1024],
                reply_to=message_id(slack_channel, ts),
            ),
        )
        outcome = Outcome.duplicate if received.duplicate else Outcome.stored
    return outcome
