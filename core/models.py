"""Kith's records: one normalized model of customers, identities, conversations and messages.

Every connector maps its platform's payload onto `InboundMessage`; everything else in Kith
speaks these types. Records are stored with `_id`; `Record.to_doc` / `model_validate` convert.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr

from kith.core.errors import InvalidInput, KithError
from kith.core.storable import Int64

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class Record(BaseModel):
    """A stored document. `id` is `_id` in MongoDB."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(validation_alias=AliasChoices("_id", "id"))
    workspace_id: str

    def to_doc(self) -> dict[str, Any]:
        doc = self.model_dump(exclude={"id"}, mode="python")
        doc["_id"] = self.id
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        return cls.model_validate(doc)


class Workspace(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(validation_alias=AliasChoices("_id", "id"))
    name: str
    created_at: datetime


class Role(StrEnum):
    admin = "admin"
    agent = "agent"
    marketer = "marketer"


class User(Record):
    email: str
    name: str
    role: Role
    team_ids: list[str] = []
    created_at: datetime


class PollStatus(BaseModel):
    """How a polled channel's polls go (`kith.core.pollers`), kept on the channel so that
    whichever process holds its lease, every page shows the same: when it was last polled,
    and, while polls fail, since when and why (`reason` a code such as `auth_failed`,
    `error` the same in short English words, never a secret)."""

    model_config = ConfigDict(extra="ignore")

    last_poll_at: datetime | None = None
    last_ok_at: datetime | None = None
    failing_since: datetime | None = None
    failures: int = 0
    reason: str | None = None
    error: str | None = None


class Channel(Record):
    """A connected account on one platform. `config` is its stored config with the secrets
    opened: what the write paths merge and the API answers (secret fields left out).
    Connectors read it typed, through `settings_as`: parsed once into the type's config model
    when the channel is loaded (`kith.core.channel_records.load`)."""

    type: str
    name: str
    config: dict[str, Any] = {}
    enabled: bool = True
    created_at: datetime
    poll: PollStatus | None = None
    _settings: BaseModel | KithError | None = PrivateAttr(default=None)

    def attach_settings(self, settings: BaseModel | KithError) -> None:
        """Keep the parsed config, or why it no longer parses (raised by `settings_as`)."""
        self._settings = settings

    def check_settings(self) -> None:
        """Raise why the stored config no longer parses, if it does not (a poller must not
        poll a channel it cannot read, and says so on the channel instead)."""
        if isinstance(self._settings, KithError):
            raise self._settings

    def settings_as(self, model: builtins.type[ConfigT]) -> ConfigT:
        """The config as `model`, its type's config model, with its defaults filled in.
        (`builtins.type`: the `type` field shadows it in this class.)"""
        settings = self._settings
        if isinstance(settings, KithError):
            raise settings
        if not isinstance(settings, model):
            raise TypeError(f"channel {self.id} ({self.type}) has no {model.__name__} settings")
        return settings


class ConversationStatus(StrEnum):
    open = "open"
    pending = "pending"
    snoozed = "snoozed"
    resolved = "resolved"


class Priority(StrEnum):
    none = "none"
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class Direction(StrEnum):
    inbound = "in"
    outbound = "out"


class AuthorKind(StrEnum):
    customer = "customer"
    agent = "agent"
    bot = "bot"
    system = "system"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"  # never attempted, on purpose: `error` says why (no_consent)


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(default="file", max_length=32, description="image, audio, video, file …")
    name: str | None = Field(default=None, max_length=512)
    size: Int64 | None = Field(default=None, ge=0)
    mime: str | None = Field(default=None, max_length=255)
    file_id: str | None = Field(default=None, max_length=1024, description="The channel's id.")
    url: str | None = Field(default=None, max_length=4096)

    def refusals(self, where: str) -> list[KithError]:
        """What is wrong with the attachment at `where` (`attachments.0`) as given: its link,
        which pages and channels open as given (`link_refusal`). Checked where an attachment
        is given (the API's messages and broadcasts), not in the model: messages stored
        before the check, and a platform's own links (WeChat's `geo:` places), still read."""
        refused = link_refusal(self.url, f"{where}.url") if self.url else None
        return [refused] if refused else []


class Author(BaseModel):
    kind: AuthorKind
    id: str | None = None
    name: str | None = None


class Purpose(StrEnum):
    """Why Kith says something: marketing needs consent and courtesy; service never waits."""

    service = "service"
    marketing = "marketing"


class ConsentState(StrEnum):
    unknown = "unknown"
    granted = "granted"
    revoked = "revoked"


class Consent(BaseModel):
    """Marketing consent on one channel type: its state, when it last changed and how
    (`keyword`, `link`, `import`, `api`, `agent` …). Service replies never look at it."""

    state: ConsentState = ConsentState.unknown
    at: datetime | None = None
    via: str | None = None


class IdentityRef(BaseModel):
    channel_id: str
    external_id: str


class Customer(Record):
    name: str | None = None
    avatar_url: str | None = None
    locale: str | None = None
    timezone: str | None = None
    tags: list[str] = []
    attributes: dict[str, Any] = {}
    consent: dict[str, Consent] = Field(default={}, description="Per channel type.")
    emails: list[str] = []
    phones: list[str] = []
    identities: list[IdentityRef] = []
    channels: list[str] = Field(default=[], description="Channel types of the identities.")
    first_seen: datetime
    last_seen: datetime | None = Field(
        default=None, description="Their last activity; none yet for an imported contact."
    )
    sentiment: dict[str, Any] | None = Field(
        default=None, description="Trend: {score, samples: [{at, score}]} (newest last)."
    )
    merged_into: str | None = None

    @property
    def shown_name(self) -> str | None:
        """What the team calls them: their name, else their first email, then phone (as
        Chatwoot lists a contact without a name); None when Kith knows none of these (pages
        then say "Customer 7F3A")."""
        return self.name or next(iter(self.emails), None) or next(iter(self.phones), None)


class Identity(Record):
    """(channel, external user id) → customer; unique per channel."""

    channel_id: str
    channel_type: str
    external_id: str
    customer_id: str
    email: str | None = None
    phone: str | None = None
    verified: bool = False
    created_at: datetime


class ConversationSentiment(BaseModel):
    """The rolling mood of a conversation, kept by the sentiment feature."""

    score: float = 0.0
    label: str = "neutral"
    negative_streak: int = 0
    count: int = 0
    escalated: bool = False


PREVIEW_CHARS = 140


class Preview(BaseModel):
    """A conversation's last message or note as one line, for the conversation list: kept
    on the conversation by the write that bumps it (ingest, `send`), so the list reads
    nothing more."""

    text: str = ""
    author_kind: AuthorKind
    private: bool = False
    attachments: int = 0
    at: datetime
    wording: Wording | None = None

    @classmethod
    def of(cls, message: Message) -> Preview:
        line = " ".join(message.text.split())
        if len(line) > PREVIEW_CHARS:
            line = line[: PREVIEW_CHARS - 1] + "…"
        return cls(
            text=line,
            author_kind=message.author.kind,
            private=message.private,
            attachments=len(message.attachments),
            at=message.created_at,
            wording=message.wording,
        )


class ConversationGroup(BaseModel):
    """The group a conversation is held in, as its connector last named it. Such a
    conversation has many customers; its `customer_id` is only whoever opened it."""

    id: str = Field(description="The platform's chat id.")
    title: str | None = None
    kind: str = "group"

    @classmethod
    def of(cls, ref: Mapping[str, Any]) -> ConversationGroup:
        """From a message's stored `group` (a `GroupRef` with its sender)."""
        return cls(id=ref["id"], title=ref.get("title"), kind=ref.get("kind") or "group")


class Conversation(Record):
    customer_id: str
    channel_id: str
    channel_type: str
    thread_key: str
    external_user_id: str | None = None
    status: ConversationStatus = ConversationStatus.open
    snoozed_until: datetime | None = None
    assignee_id: str | None = None
    team_id: str | None = None
    labels: list[str] = []
    priority: Priority = Priority.none
    last_message_at: datetime
    unread_count: int = 0  # inbound messages no one of the team has read (the API's view)
    # Each agent's own unread count (`unread_for`): inbound messages counted since these
    # were kept, how many of them each agent had when they last read (by user id), and how
    # many there were when it was last resolved. Written by their own updates, never shown.
    inbound_count: int = Field(default=0, exclude=True)
    read_marks: dict[str, int] = Field(default={}, exclude=True)
    read_floor: int = Field(default=0, exclude=True)
    waiting_since: datetime | None = None  # the customer's oldest message no person answered
    sentiment: ConversationSentiment | None = None
    preview: Preview | None = None
    group: ConversationGroup | None = Field(
        default=None, description="The group it is held in (None: a private chat)."
    )
    created_at: datetime

    def unread_for(self, user_id: str) -> int:
        """The inbound messages `user_id` has not read: those since they last read it, or
        since it was last resolved if later (an agent who never opened it: since then). A
        conversation that got no message since these counts were kept has the team's count."""
        if not self.inbound_count:
            return self.unread_count
        seen = max(self.read_floor, self.read_marks.get(user_id, 0))
        return max(0, self.inbound_count - seen)

    def to_doc(self) -> dict[str, Any]:
        """Without `waiting_since` when nobody waits: absent (not null) lets ingest's `$min`
        set it, where a stored null would win every comparison. Without `group` when none,
        so a group's messages can set its fields on a conversation opened before them."""
        doc = super().to_doc()
        for key in ("waiting_since", "group"):
            if doc.get(key) is None:
                doc.pop(key, None)
        return doc


class Delivery(BaseModel):
    status: DeliveryStatus = DeliveryStatus.pending
    attempts: int = 0
    next_attempt_at: datetime | None = None
    error: str | None = None
    sent_at: datetime | None = None
    parts_sent: int = Field(
        default=0, description="Parts of a multi-part message already delivered: not resent."
    )


class Sentiment(BaseModel):
    label: str
    score: float


class NlpResult(BaseModel):
    sentiment: Sentiment | None = None
    language: str | None = None


LINK_MAX = 2048


def link_refusal(url: str, field: str) -> InvalidInput | None:
    """Why `url` may not be a link Kith sends (a button's, an attachment's), naming `field`;
    None when it may.

    Only an absolute http(s) address with a host: the customer's app opens it as given, and
    anything else is either harmful (`javascript:`, `data:`) or refused by a platform
    (Telegram fails the whole message, `BUTTON_URL_INVALID`; the web widget and WeChat drop
    the link). No spaces or control characters, which platforms refuse or strip, and no user
    or password, which dress one site as another (`https://shop.example@evil.example`).
    """
    if any(c.isspace() or not c.isprintable() for c in url):
        return InvalidInput(
            "a web address has no spaces or control characters", field=field, reason="url_parsing"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname if parts.port != 0 else None  # a port not 1-65535 raises
    except ValueError:
        return InvalidInput("not a web address", field=field, reason="url_parsing")
    if parts.scheme not in ("http", "https") or not host:
        return InvalidInput(
            "a web address starting with https:// or http://", field=field, reason="url_scheme"
        )
    if parts.username is not None or parts.password is not None:
        return InvalidInput(
            "a web address without a user or password", field=field, reason="url_credentials"
        )
    return None


class Button(BaseModel):
    """A button under a message: pressing it sends `payload` back, or opens `url`; a channel
    that can do both (Slack, a numbered menu on WeChat or the API channel) does both.

    The model takes any `url` so that messages stored before links were checked still read;
    where a button is given (the API's messages, a bot's steps), `refusals` checks it."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=64)
    payload: str | None = Field(default=None, max_length=64)
    url: str | None = Field(default=None, max_length=LINK_MAX)

    def refusals(self, where: str) -> list[KithError]:
        """What is wrong with the button at `where` (`buttons.0`) as given: its link."""
        refused = link_refusal(self.url, f"{where}.url") if self.url else None
        return [refused] if refused else []


class Wording(BaseModel):
    """What Kith itself says in a note, as a key and its values, so that each reader's page
    words it in their own language (`said_<key>` in the inbox's texts; values named `…_at`
    are ISO moments, written as the page writes dates; a list value is joined with the
    language's list separator, unworded); the message's `text` keeps the
    English, for the API, search and any page without the key. A term is a text key itself
    (a status, a reason), or a list of them (the actions taken), each worded and joined with
    the language's list separator (`list_separator`: ", " in English, "、" in Chinese)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    values: Mapping[str, str | int | float | list[str]] = {}  # a Mapping: dict[str, str] too
    terms: Mapping[str, str | list[str]] = {}  # a Mapping: a dict[str, str] passes too


class Message(Record):
    conversation_id: str
    customer_id: str
    channel_id: str
    direction: Direction
    author: Author
    text: str = ""
    attachments: list[Attachment] = []
    buttons: list[Button] = []
    channel_message_id: str | None = None
    reply_to: str | None = None
    private: bool = False
    purpose: Purpose = Purpose.service
    created_at: datetime
    sent_at: datetime | None = Field(
        default=None,
        description="When the platform says the customer sent it (Telegram `date`, Slack "
        "`ts`, WeChat `CreateTime`), by its clock; `created_at` is when Kith received it.",
    )
    delivery: Delivery | None = None
    nlp: NlpResult | None = None
    payload: str | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    wording: Wording | None = None


class Event(Record):
    """One line of the append-only event log: what happened, to what, by whom, when."""

    type: str
    actor: Author
    conversation_id: str | None = None
    customer_id: str | None = None
    message_id: str | None = None
    data: dict[str, Any] = {}
    created_at: datetime


class InboundUser(BaseModel):
    """The sender as the channel knows them."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256)
    name: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    avatar_url: str | None = Field(default=None, max_length=4096)
    locale: str | None = Field(default=None, max_length=35)


class GroupRef(BaseModel):
    """The group a message was posted in, as its connector knows it (None: a private chat)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256, description="The platform's chat id.")
    title: str | None = Field(default=None, max_length=256)
    kind: str = Field(
        default="group", max_length=32, description="group, supergroup, channel (the platform's)"
    )
    admin: bool = Field(
        default=False,
        description="Posted by the group's own admins as the group or channel itself (an "
        "anonymous admin, a channel post): not a member, never moderated.",
    )
    automatic: bool = Field(
        default=False,
        description="Copied in by the platform (a linked channel's post forwarded into its "
        "discussion group): not a member, never moderated.",
    )
    forwarded: bool = Field(
        default=False, description="Forwarded by its sender from another chat or user."
    )
    addressed: bool = Field(
        default=False,
        description="Speaks to our bot (a reply to its message, a command, a mention of it): "
        "in a group, a bot answers only these; the rest is the members' own talk.",
    )
    mentions: list[Annotated[str, Field(max_length=64)]] = Field(
        default=[],
        max_length=20,
        description="Who the message names by username (`@kettle_bot`, `/help@kettle_bot`), "
        "lowercased: addressed to our bot when one is its name (`GroupAdmin.bot_names`).",
    )


class InboundMessage(BaseModel):
    """What every connector hands to `ingest()`: one message, normalized."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: str
    channel_id: str
    channel_type: str
    channel_message_id: str = Field(min_length=1, max_length=512)
    user: InboundUser
    thread_key: str | None = Field(
        default=None, max_length=512, description="The thread; None: the sender's own."
    )
    text: str = Field(default="", max_length=100_000)
    attachments: list[Attachment] = Field(default=[], max_length=50)
    reply_to: str | None = Field(default=None, max_length=512)
    payload: str | None = Field(
        default=None, max_length=1024, description="A pressed button's payload, for bots."
    )
    sent_at: datetime | None = None
    control: bool = Field(
        default=False,
        description="A platform control message (Telegram's /start) that a channel event "
        "stands for: stored for agents, answered by bots through the event.",
    )
    group: GroupRef | None = Field(
        default=None, description="The group it was posted in (communities keep their roster)."
    )

    @classmethod
    def on(cls, channel: Channel, **fields: Any) -> InboundMessage:
        """A message received on `channel` (its workspace, id and type filled in)."""
        return cls(
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            channel_type=channel.type,
            **fields,
        )


class ChannelEventKind(StrEnum):
    """Things that happen on a channel that are not messages."""

    member_joined = "member_joined"
    member_left = "member_left"
    member_updated = "member_updated"  # promoted, demoted or restricted while in (`role`)
    subscribed = "subscribed"
    unsubscribed = "unsubscribed"
    menu_click = "menu_click"
    scan = "scan"
    start = "start"
    bot_added = "bot_added"  # our bot joined a group or channel (or became admin there)
    bot_removed = "bot_removed"  # our bot was removed, or left
    group_migrated = "group_migrated"  # the group moved to a new chat id (`payload`)
    join_requested = "join_requested"  # asked to join through a link needing approval (`payload`)
    group_renamed = "group_renamed"  # the group's new title is `group_name`


class ChannelEvent(BaseModel):
    """A normalized non-message event (a member joined a group, a WeChat follow …)."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: str
    channel_id: str
    channel_type: str
    event_id: str = Field(min_length=1, max_length=512, description="Dedup key on the channel.")
    kind: ChannelEventKind
    user: InboundUser
    thread_key: str | None = Field(
        max_length=512,
        description="The thread the event belongs to, stated by the connector like a "
        "message's (None: the user's own thread).",
    )
    group_id: str | None = Field(default=None, max_length=256)
    group_name: str | None = Field(default=None, max_length=256)
    group_kind: str | None = Field(default=None, max_length=32)
    role: str | None = Field(
        default=None, max_length=32, description="member, administrator, creator, restricted …"
    )
    payload: str | None = Field(
        default=None,
        max_length=1024,
        description="Referral scene, menu key, start payload, the invite link a member joined by …",
    )
    occurred_at: datetime | None = None


class OutboundContent(BaseModel):
    """What an agent, a bot or the system says; each channel renders what it can."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=100_000)
    attachments: list[Attachment] = Field(default=[], max_length=20)
    buttons: list[Button] = Field(default=[], max_length=20)
    private: bool = False
    reply_to: str | None = Field(default=None, max_length=512)
    purpose: Purpose = Purpose.service
