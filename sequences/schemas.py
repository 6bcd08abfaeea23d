"""What the sequences API takes and answers (the builder page speaks the same shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kith.sequences.enrol import Outcome
from kith.sequences.models import (
    Enrolment,
    EnrolmentState,
    Goal,
    Sequence,
    Status,
    Step,
    StepId,
    Trigger,
    one_of,
)

MAX_INLINE = 1000  # customer ids enrolled within one request; more go through a job
CUSTOMER_ID = Field(min_length=1, max_length=64)


class SequenceOut(BaseModel):
    id: str
    name: str
    status: Status
    version: int
    steps: list[Step]
    channels: list[str]
    stop_on_reply: bool
    goal: Goal | None
    triggers: list[Trigger]
    reenrol_after_days: int | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    webhook_secret: str | None = Field(
        default=None,
        description="Only in the creation's answer, shown this once: it signs the sequence's "
        "webhook steps (`X-Kith-Signature`); `POST …/webhook-secret` replaces it.",
    )

    @classmethod
    def of(cls, sequence: Sequence) -> SequenceOut:
        return cls.model_validate(sequence, from_attributes=True)


class EnrolIn(BaseModel):
    """Enrol these customers now (answered one by one), or a segment's members (a job)."""

    model_config = ConfigDict(extra="forbid")

    customer_ids: list[Annotated[str, CUSTOMER_ID]] | None = Field(
        default=None, min_length=1, max_length=MAX_INLINE
    )
    segment_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.customer_ids is None) == (self.segment_id is None):
            raise one_of("customer_ids, segment_id", "give either customer_ids or segment_id")
        return self


class EnrolResult(BaseModel):
    customer_id: str
    outcome: Outcome
    reason: str | None = None  # why skipped: no_consent, no_reachable_channel, not_found …
    enrolment_id: str | None = None
    source: str | None = None  # what enrolled them ("api", "bulk:<job id>", a trigger …)


class EnrolAnswer(BaseModel):
    results: list[EnrolResult]


class EnrolmentOut(BaseModel):
    id: str
    sequence_id: str
    customer_id: str
    version: int
    round: int
    state: EnrolmentState
    step_id: str | None
    due_at: datetime | None
    reason: str | None
    source: str
    enrolled_at: datetime
    finished_at: datetime | None
    replied_at: datetime | None
    clicked_at: datetime | None
    converted_at: datetime | None
    customer_name: str | None = Field(
        default=None, description="The customer's name (in listings; None once erased)."
    )

    @classmethod
    def of(cls, enrolment: Enrolment, customer_name: str | None = None) -> EnrolmentOut:
        out = cls.model_validate(enrolment, from_attributes=True)
        out.customer_name = customer_name
        return out


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = CUSTOMER_ID


class TestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = CUSTOMER_ID
    step_id: StepId
