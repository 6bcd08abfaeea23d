"""Slack's payloads at the edge, as the Events API and interactivity docs define them.

Slack adds fields over time, so models ignore what they do not name; what they do name is
validated (ids and timestamps end up in thread keys and dedup keys).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SLACK_ID = r"^[A-Za-z0-9]{1,64}$"
SLACK_TS = r"^\d{1,12}\.\d{1,9}$"


class _Slack(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Envelope(_Slack):
    """Every Events API request: its `type` says what the rest is."""

    type: str = Field(min_length=1, max_length=64)


class UrlVerification(_Slack):
    type: Literal["url_verification"]
    challenge: str = Field(min_length=1, max_length=512)


class Authorization(_Slack):
    """Who the event was delivered for; `user_id` is our bot's user when `is_bot`."""

    user_id: str | None = None
    is_bot: bool = False


class EventCallback(_Slack):
    """The outer `event_callback` envelope; `event` is parsed by its own `type`. Slack sends
    `event_id` on every delivery, but payloads replayed from elsewhere (slack-bolt's own
    fixtures among them) may lack it: only the events keyed by it need it."""

    type: Literal["event_callback"]
    team_id: str | None = None
    event_id: str | None = Field(default=None, min_length=1, max_length=128)
    event_time: int | None = None
    event: dict[str, object]
    authorizations: list[Authorization] = []


class InnerEvent(_Slack):
    type: str = Field(min_length=1, max_length=64)


class UserProfile(_Slack):
    real_name: str | None = None
    display_name: str | None = None
    image_72: str | None = None


class SlackFile(_Slack):
    id: str = Field(min_length=1, max_length=64)
    name: str | None = None
    title: str | None = None
    mimetype: str | None = None
    size: int | None = Field(default=None, ge=0)
    url_private: str | None = None


class Edited(_Slack):
    """Who edited a message, and when (a `message_changed` event's message carries it)."""

    user: str | None = Field(default=None, max_length=64)
    ts: str = Field(pattern=SLACK_TS)


class SlackMessage(_Slack):
    """A `message` or `app_mention` event (also the nested `message` of `message_changed`)."""

    type: Literal["message", "app_mention"] = "message"
    subtype: str | None = None
    channel: str | None = Field(default=None, pattern=SLACK_ID)
    channel_type: str | None = None
    user: str | None = Field(default=None, max_length=64)
    bot_id: str | None = None
    text: str = ""
    ts: str | None = Field(default=None, pattern=SLACK_TS)
    thread_ts: str | None = Field(default=None, pattern=SLACK_TS)
    files: list[SlackFile] = []
    user_profile: UserProfile | None = None
    message: SlackMessage | None = None
    previous_message: SlackMessage | None = None
    deleted_ts: str | None = Field(default=None, pattern=SLACK_TS)
    edited: Edited | None = None
    hidden: bool = False


class MemberEvent(_Slack):
    """`member_joined_channel` / `member_left_channel`."""

    type: Literal["member_joined_channel", "member_left_channel"]
    user: str = Field(min_length=1, max_length=64)
    channel: str = Field(pattern=SLACK_ID)
    channel_type: str | None = None
    inviter: str | None = Field(default=None, max_length=64)
    event_ts: str | None = None


class ActionText(_Slack):
    type: str = "plain_text"
    text: str = ""


class BlockAction(_Slack):
    type: str
    action_id: str = Field(min_length=1, max_length=255)
    block_id: str | None = None
    value: str | None = None
    text: ActionText | None = None
    action_ts: str | None = None


class ActionUser(_Slack):
    id: str = Field(min_length=1, max_length=64)
    username: str | None = None
    name: str | None = None


class ActionChannel(_Slack):
    id: str = Field(pattern=SLACK_ID)
    name: str | None = None


class ActionContainer(_Slack):
    type: str
    message_ts: str | None = Field(default=None, pattern=SLACK_TS)
    channel_id: str | None = Field(default=None, pattern=SLACK_ID)
    thread_ts: str | None = Field(default=None, pattern=SLACK_TS)


class ActionMessage(_Slack):
    ts: str = Field(pattern=SLACK_TS)
    thread_ts: str | None = Field(default=None, pattern=SLACK_TS)


class BlockActions(_Slack):
    """A `block_actions` interaction payload: a user pressed a Block Kit element."""

    type: Literal["block_actions"]
    trigger_id: str = Field(min_length=1, max_length=255)
    user: ActionUser
    channel: ActionChannel | None = None
    container: ActionContainer
    message: ActionMessage | None = None
    actions: list[BlockAction] = Field(default=[], max_length=25)


class RenamedChannel(_Slack):
    id: str = Field(pattern=SLACK_ID)
    name: str = Field(min_length=1, max_length=256)


class ChannelRename(_Slack):
    """`channel_rename` (a public channel) and `group_rename` (a private one)."""

    type: Literal["channel_rename", "group_rename"]
    channel: RenamedChannel
