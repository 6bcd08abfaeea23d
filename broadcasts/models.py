"""Broadcast records, the input that creates one, and the moves between their states."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from kith.core.errors import InvalidInput, KithError
from kith.core.languages import pick_text
from kith.core.models import Attachment, Button, Record

CHANNEL_TYPE = r"^[a-z][a-z0-9_]{0,31}$"
LANGUAGES = ("en", "zh")


def _stripped(value: Any) -> Any:
    """A name as given without the spaces around it; nothing left is refused as `blank` (a
    list row, or a link a screen reader reads as "", could not be told apart)."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise PydanticCustomError("blank", "write a name: it cannot be blank")
    return value


# The name of a broadcast or a sequence as given (the stored records take what they hold, so
# one saved blank before this check still loads).
Name = Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=200)]


class Status(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    sending = "sending"
    paused = "paused"
    done = "done"
    cancelled = "cancelled"


# Who may move where. `sending` → `done` and `scheduled` → `sending` are the workers'.
MOVES: dict[Status, frozenset[Status]] = {
    Status.draft: frozenset({Status.scheduled, Status.cancelled}),
    Status.scheduled: frozenset({Status.draft, Status.sending, Status.paused, Status.cancelled}),
    Status.sending: frozenset({Status.paused, Status.cancelled, Status.done}),
    Status.paused: frozenset({Status.sending, Status.scheduled, Status.cancelled}),
    Status.done: frozenset(),
    Status.cancelled: frozenset(),
}


class RecipientStatus(StrEnum):
    pending = "pending"
    held = "held"
    sent = "sent"
    skipped = "skipped"
    failed = "failed"


class MessageIn(BaseModel):
    """The message: text per language (`en`, `zh` …; the first given is the fallback)."""

    model_config = ConfigDict(extra="forbid")

    text: dict[str, str] = Field(min_length=1, max_length=8)
    buttons: list[Button] = Field(default=[], max_length=10)
    image: Attachment | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _some_text(cls, value: Any) -> Any:
        """Said in words before pydantic's "Dictionary should have at least 1 item"."""
        if value == {}:
            raise PydanticCustomError(
                "empty_message", "write the message in at least one language (en or zh)"
            )
        return value

    @field_validator("text")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        """Checked on the field, so that the refusal names `message.text` (a page shows it
        there), not the whole message."""
        for language in value:
            if language not in LANGUAGES:
                raise PydanticCustomError(
                    "unknown_language",
                    "language {language!r}: use en or zh",
                    {"language": language, "expected": ", ".join(LANGUAGES)},
                )
        return value

    def refusals(self, where: str) -> list[KithError]:
        """What is wrong with the message at `where` (`message`) as given: a language's text
        left blank (it would fail every recipient), each button's and the image's links
        (`kith.core.models.link_refusal`). Checked on saving a draft, not in the model, which
        the stored broadcast shares: one saved before still loads."""
        errors: list[KithError] = [
            InvalidInput(
                "write the message in this language, or leave the language out",
                field=f"{where}.text.{language}",
                reason="blank",
            )
            for language, text in self.text.items()
            if not text.strip()
        ]
        for n, button in enumerate(self.buttons):
            errors += button.refusals(f"{where}.buttons.{n}")
        if self.image is not None:
            errors += self.image.refusals(f"{where}.image")
        return errors


class BroadcastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    segment_id: str | None = Field(default=None, min_length=1, max_length=64)
    customer_ids: list[str] | None = Field(default=None, min_length=1, max_length=10_000)
    # Posted once into each community's group conversation (`kith.communities.broadcasts`).
    community_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=500, validate_default=True
    )
    message: MessageIn
    channels: list[str] = Field(default=[], max_length=8, validate_default=True)
    send_at: datetime | None = None
    send_by: datetime | None = None

    # Field validators run in the order the fields are declared: each sees the valid ones
    # above it in `info.data`, so every refusal names the field a page shows it next to (a
    # model validator's would name only the whole `body`). Each has its own `reason` (and
    # values), which a page words in its language.
    @field_validator("customer_ids")
    @classmethod
    def _customers_alone(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is not None and info.data.get("segment_id") is not None:
            raise PydanticCustomError(
                "segment_and_customers", "give either a segment or customer ids, not both"
            )
        return value

    @field_validator("community_ids")
    @classmethod
    def _communities_alone(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is not None and info.data.get("segment_id") is not None:
            raise PydanticCustomError(
                "segment_and_communities", "give either a segment or communities, not both"
            )
        if value is not None and info.data.get("customer_ids") is not None:
            raise PydanticCustomError(
                "customers_and_communities", "give either customer ids or communities, not both"
            )
        others = ("segment_id", "customer_ids")
        none_given = all(k in info.data and info.data[k] is None for k in others)
        if value is None and none_given:
            raise PydanticCustomError(
                "no_audience", "give one of segment_id, customer_ids or community_ids"
            )
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if value and info.data.get("community_ids"):
            raise PydanticCustomError(
                "channels_for_communities",
                "a community broadcast posts on each community's own channel",
            )
        if not value and "community_ids" in info.data and info.data["community_ids"] is None:
            raise PydanticCustomError("no_channels", "give the channel types to send on")
        twice = next((c for n, c in enumerate(value) if c in value[:n]), None)
        if twice is not None:
            raise PydanticCustomError(
                "channel_twice",
                "the channel type '{channel_type}' is listed twice",
                {"channel_type": twice},
            )
        return value

    @field_validator("send_by")
    @classmethod
    def _after_send_at(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        send_at = info.data.get("send_at")
        if value is not None and send_at is not None and value <= send_at:
            raise PydanticCustomError(
                "send_by_not_after_send_at", "send_by must come after send_at"
            )
        return value


class Stats(BaseModel):
    """Counters kept with the recipients' transitions (and recounted once at the end)."""

    targeted: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: dict[str, int] = {}
    held: int = 0
    replied: int = 0
    unsubscribed: int = 0
    clicked: int = 0  # recipients who followed a link of theirs (`kith.broadcasts.links`)


class Audience(BaseModel):
    """How far the materialiser got: customers are read in `_id` order after `after`."""

    after: str | None = None
    done: bool = False
    filter: dict[str, Any] | None = None


class Broadcast(Record):
    name: str
    status: Status = Status.draft
    segment_id: str | None = None
    customer_ids: list[str] | None = None
    community_ids: list[str] | None = None
    message: MessageIn
    channels: list[str]
    send_at: datetime | None = None
    send_by: datetime | None = None
    audience: Audience = Audience()
    stats: Stats = Stats()
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    version: int = 1  # bumped by every saved edit; a draft stored before it has none: 1

    def text_for(self, language: str | None) -> tuple[str, str]:
        """(language, template) in the customer's language (`kith.core.languages`), else the
        first given."""
        return pick_text(self.message.text, language)


class Recipient(Record):
    """One customer of the audience, or one community (its group conversation) of it."""

    broadcast_id: str
    customer_id: str | None = None
    community_id: str | None = None
    status: RecipientStatus = RecipientStatus.pending
    reason: str | None = None
    due_at: datetime
    message_id: str | None = None
    channel_id: str | None = None
    channel_type: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    replied_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    clicked_at: datetime | None = None  # their first click on a link of the message


class BroadcastPatch(BaseModel):
    """A draft's change: the fields given replace the draft's (a `message` replaces the whole
    message); the result is checked as a whole, as `BroadcastIn` on save. Giving one of the
    audience fields (`segment_id`, `customer_ids`, `community_ids`) replaces the audience: the
    other two are cleared."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    segment_id: str | None = None
    customer_ids: list[str] | None = None
    community_ids: list[str] | None = None
    message: MessageIn | None = None
    channels: list[str] | None = None
    send_at: datetime | None = None
    send_by: datetime | None = None
    version: int | None = Field(
        default=None,
        ge=1,
        description="The draft's version as read: an edit of a draft changed since is a 409.",
    )
