"""Request and answer bodies of the REST API. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from kith.contacts.mapping import check_timezone
from kith.core.api_tokens import ApiToken, TokenScope
from kith.core.context import Core
from kith.core.conversations import do_update_conversation
from kith.core.languages import LOCALE_MAX, check_locale
from kith.core.models import (
    Author,
    Conversation,
    ConversationStatus,
    OutboundContent,
    PollStatus,
    Priority,
)
from kith.core.storable import DocumentKey, Int64
from kith.core.tags import fold_tags
from kith.core.teams import ensure_team

T = TypeVar("T")
LABEL_CHARS = 64  # a conversation label's longest


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Strict(BaseModel):
    """A request body: unknown fields are refused. A list is never `null`: leave it out to
    keep what is stored (patches tell the two apart with `model_fields_set`)."""

    model_config = ConfigDict(extra="forbid")


class ChannelCreate(Strict):
    type: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=128)
    config: dict[str, Any] = {}


class ChannelPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    config: dict[str, Any] | None = None
    enabled: bool | None = None


class ChannelOut(BaseModel):
    id: str
    type: str
    name: str
    config: dict[str, Any]
    enabled: bool
    created_at: datetime
    webhook_path: str | None = Field(
        description="Where the platform posts; null where it does not (email is polled, "
        "the web chat widget talks to its own routes)."
    )
    poll: PollStatus | None = Field(
        default=None,
        description="A polled channel's (email, Telegram in polling mode) last poll: when, "
        "and while polls fail, since when and why (`reason`: auth_failed, host_not_found, "
        "connection_refused, host_unreachable, tls_error, timeout, …). Null until polled.",
    )


class ChannelCreated(ChannelOut):
    token: str = Field(description="Bearer token for this channel's webhook; shown only once.")
    secrets: dict[str, str] = Field(description="Generated secrets; shown only once.")


class CustomerPatch(Strict):
    name: str | None = Field(default=None, max_length=256)
    avatar_url: str | None = Field(default=None, max_length=4096)
    locale: str | None = Field(
        default=None,
        max_length=LOCALE_MAX,
        description="A BCP 47 tag, language[-Script][-REGION]: `en`, `zh-CN`, `zh-Hant-TW`.",
    )
    timezone: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=100)
    attributes: dict[DocumentKey, str | Int64 | float | bool | None] | None = Field(
        default=None, description="Names become keys: letters, digits, `_` and `-`."
    )

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else check_locale(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned = [t.strip() for t in value]
        if any(not t or len(t) > 64 for t in cleaned):
            raise ValueError("tags must be 1 to 64 characters")
        return list(dict.fromkeys(cleaned))


class MergeRequest(Strict):
    other_id: str = Field(min_length=1, max_length=64)


class ConversationPatch(Strict):
    """A change to a conversation: fields left out stay as they are; `assignee_id: null`
    unassigns, `team_id: null` takes it back from the team. The REST API and the inbox take
    the same shape."""

    status: ConversationStatus | None = None
    snoozed_until: datetime | None = None
    assignee_id: str | None = Field(default=None, max_length=64)
    team_id: str | None = Field(
        default=None,
        max_length=64,
        description="Hand the conversation to this team (its agents then see and answer it); "
        "null takes it back. A team not in the workspace: 422 on `team_id`.",
    )
    labels: list[str] = Field(default_factory=list, max_length=50)
    priority: Priority | None = None

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        cleaned = fold_tags(value)
        if any(len(v) > LABEL_CHARS for v in cleaned):
            # A reason of its own, so that a page says it in its user's language.
            raise PydanticCustomError(
                "label_too_long",
                "labels are at most {max_length} characters",
                {"max_length": LABEL_CHARS},
            )
        return cleaned

    async def apply(self, core: Core, conversation: Conversation, actor: Author) -> Conversation:
        """All or nothing: the team is checked here and the rest (assignee, snooze) by
        `do_update_conversation` before its one write, so a refusal (422 naming the field)
        leaves the conversation and the event log as they were."""
        sent = self.model_fields_set
        if "team_id" in sent and self.team_id is not None:
            await ensure_team(core, conversation.workspace_id, self.team_id)
        return await do_update_conversation(
            core,
            conversation,
            actor=actor,
            status=self.status,
            snoozed_until=self.snoozed_until,
            assignee_id=self.assignee_id if "assignee_id" in sent else ...,
            labels=self.labels if "labels" in sent else None,
            priority=self.priority,
            team_id=self.team_id if "team_id" in sent else ...,
        )


class MessageCreate(OutboundContent):
    """A reply (or, with `private`, a note) to send on the conversation's channel."""


class CustomerOut(BaseModel):
    id: str
    name: str | None
    avatar_url: str | None
    locale: str | None
    timezone: str | None
    tags: list[str]
    attributes: dict[str, Any]
    consent: dict[str, Any]
    emails: list[str]
    phones: list[str]
    identities: list[dict[str, str]]
    channels: list[str]
    first_seen: datetime
    last_seen: datetime | None


class Erased(BaseModel):
    """What an erasure deleted, by collection (counts only: nothing of the customer)."""

    erased: bool = True
    deleted: dict[str, int]


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=128)
    scope: TokenScope = TokenScope.full
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    def expiry(self, now: datetime) -> datetime | None:
        return now + timedelta(days=self.expires_in_days) if self.expires_in_days else None


class TokenCreated(ApiToken):
    token: str  # shown this once
