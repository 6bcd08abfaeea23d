"""What a satisfaction survey keeps: the answer shown on the ticket, and the workspace's
settings (delay, limits, texts per language)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class SkipReason(StrEnum):
    """Why a resolution was never asked about."""

    outside_window = "outside_window"  # the channel's reply window stayed shut past the wait
    reopened = "reopened"  # reopened (or solved again) before the question went out
    no_conversation = "no_conversation"  # the customer has nowhere to be asked
    channel_unavailable = "channel_unavailable"  # the channel was removed or disabled
    group_conversation = "group_conversation"  # it would be asked of the whole group


class Csat(BaseModel):
    """The survey of the ticket's latest resolution, as agents see it on the ticket."""

    resolution: int
    score: int | None = Field(default=None, ge=1, le=5)
    reason: str | None = None
    asked_at: datetime | None = None
    answered_at: datetime | None = None
    skipped: SkipReason | None = None


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


class CsatTexts(BaseModel):
    """What the customer reads; `{number}` is replaced by the ticket's number."""

    model_config = ConfigDict(extra="forbid")

    question: Text | None = None
    reason: Text | None = None
    thanks: Text | None = None


class CsatSettings(BaseModel):
    """A workspace's survey: whether it runs, after how long, how long answers count, how
    long to wait for a shut reply window, and its own texts per language."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    delay_minutes: int = Field(default=0, ge=0, le=43_200, description="After solving.")
    answer_hours: int = Field(
        default=72,
        ge=1,
        le=8760,
        description="How long a text reply counts as the answer (and the reason after it).",
    )
    wait_hours: int = Field(
        default=168,
        ge=1,
        le=8760,
        description="Outside the channel's reply window: how long to wait for the "
        "customer's next message before skipping (`outside_window`).",
    )
    texts: dict[Language, CsatTexts] = Field(default={}, max_length=20)
