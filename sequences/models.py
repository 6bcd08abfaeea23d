"""Sequences, their frozen versions, enrolments and step runs: the data every part of the
sequences feature speaks.

A sequence is a list of steps run in order unless a `branch` jumps. Editing an active
sequence writes a new `SequenceVersion`; an enrolment is pinned to the version it started on.
An enrolment's `step_id` is the next step to run and `due_at` when; a `wait` step is run by
moving `due_at`, so a wait of any length is data, never an in-memory timer. Each run of a step
is one `StepRun` with an id derived from (enrolment, step, visit): a retried run finds it and
never acts twice, and the stats are counts over runs.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from kith.broadcasts.models import CHANNEL_TYPE, MessageIn, Name
from kith.core.models import Record
from kith.core.storable import Int64
from kith.core.tags import FoldedTag, fold_tag

STEP_ID = r"^[a-z0-9][a-z0-9_-]{0,47}$"
STEP_ID_LENGTH = 48
MIN_WAIT = timedelta(seconds=1)  # the timers' grain: a shorter wait is a typing slip
MAX_WAIT = timedelta(days=366)
MAX_STEPS = 50
_DURATION = TypeAdapter(timedelta)
# Stored and shown as ISO 8601 ("P1D"): BSON has no duration type.
Duration = Annotated[
    timedelta, PlainSerializer(lambda d: _DURATION.dump_python(d, mode="json"), return_type=str)
]


def _step_id(value: str) -> str:
    """A refusal that says what a step id may hold (a bare pattern mismatch does not)."""
    if not re.fullmatch(STEP_ID, value):
        raise PydanticCustomError(
            "step_id_format",
            "a step id is 1 to {max_length} lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit",
            {"max_length": STEP_ID_LENGTH},
        )
    return value


StepId = Annotated[
    str,
    AfterValidator(_step_id),
    Field(json_schema_extra={"pattern": STEP_ID, "maxLength": STEP_ID_LENGTH}),
]


def one_of(names: str, message: str) -> PydanticCustomError:
    """A model that takes exactly one of `names` got none or several; its `reason` (`one_of`)
    and the names let a page word it in its own language."""
    return PydanticCustomError("one_of", message, {"names": names})


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StepId


class WaitUntil(BaseModel):
    """The next `time` (HH:MM) in the customer's zone, on `weekday` when given."""

    model_config = ConfigDict(extra="forbid")

    weekday: Weekday | None = None
    time: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class WaitStep(_Step):
    type: Literal["wait"] = "wait"
    duration: Duration | None = None  # ISO 8601, e.g. "P1D", "PT30M"
    until: WaitUntil | None = None

    @field_validator("duration")
    @classmethod
    def _bounded(cls, duration: timedelta | None) -> timedelta | None:
        """Checked on the field, so that the refusal names `duration` (the builder puts it
        there), not the whole step."""
        if duration is not None and not MIN_WAIT <= duration <= MAX_WAIT:
            raise PydanticCustomError(
                "wait_length", "a wait lasts at least a second and at most a year"
            )
        return duration

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.duration is None) == (self.until is None):
            raise one_of("duration, until", "give either duration or until")
        return self


class SendStep(_Step):
    """The broadcast message model; `channels` (preference order) overrides the sequence's.
    `send_by` bounds how late an overdue send may still go out (after downtime)."""

    type: Literal["send"] = "send"
    message: MessageIn
    channels: list[Annotated[str, Field(pattern=CHANNEL_TYPE)]] | None = Field(
        default=None, min_length=1, max_length=8
    )
    send_by: Duration = timedelta(hours=24)


class Since(StrEnum):
    """What a branch may ask about the time since enrolment."""

    replied = "replied"
    clicked = "clicked"
    converted = "converted"


class BranchStep(_Step):
    """Go to `then` when the condition holds, else to `else` (the next step when absent).
    The condition is a segment filter over the customer, or `since` enrolment."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["branch"] = "branch"
    filter: dict[str, Any] | None = None
    since: Since | None = None
    then: StepId
    otherwise: StepId | None = Field(default=None, alias="else")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.filter is None) == (self.since is None):
            raise one_of("filter, since", "give either filter or since")
        return self


class TagStep(_Step):
    type: Literal["tag"] = "tag"
    tag: FoldedTag = Field(min_length=1, max_length=64)


class UntagStep(_Step):
    type: Literal["untag"] = "untag"
    tag: FoldedTag = Field(min_length=1, max_length=64)


class SetAttributeStep(_Step):
    type: Literal["set_attribute"] = "set_attribute"
    key: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    value: str | Int64 | float | bool | None  # an integer BSON can store


class WebhookStep(_Step):
    """A POST of the enrolment to `url`, through the egress guard, signed like bot webhooks."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(min_length=8, max_length=2000)
    timeout_seconds: float = Field(default=10.0, gt=0, le=30)


class NotifyTeamStep(_Step):
    """A note in the inbox on the customer's latest conversation, for a team (or everyone)."""

    type: Literal["notify_team"] = "notify_team"
    team_id: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=1, max_length=2000)


class GoalStep(_Step):
    """The customer converted: counted on this step, and the enrolment ends (reason goal)."""

    type: Literal["goal"] = "goal"


class EndStep(_Step):
    type: Literal["end"] = "end"


Step = Annotated[
    WaitStep
    | SendStep
    | BranchStep
    | TagStep
    | UntagStep
    | SetAttributeStep
    | WebhookStep
    | NotifyTeamStep
    | GoalStep
    | EndStep,
    Field(discriminator="type"),
]


def _only_true(value: object) -> object:
    """JSON's `true` only: `Literal[True]` alone takes 1 (1 == True in Python)."""
    if value is not None and value is not True:
        raise PydanticCustomError("literal_error", "Input should be true", {"expected": "true"})
    return value


class Goal(BaseModel):
    """Reaching it stops the enrolment as converted: entering a segment, getting a tag, or
    placing an order (`order_placed`: any new order, not an imported one)."""

    model_config = ConfigDict(extra="forbid")

    segment_id: str | None = Field(default=None, max_length=64)
    tag: FoldedTag | None = Field(default=None, max_length=64)
    order_placed: Annotated[Literal[True] | None, BeforeValidator(_only_true)] = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if sum(x is not None for x in (self.segment_id, self.tag, self.order_placed)) != 1:
            raise one_of(
                "segment_id, tag, order_placed", "give one of segment_id, tag or order_placed"
            )
        return self


class TriggerKind(StrEnum):
    segment_entered = "segment_entered"  # value: segment id
    tag_added = "tag_added"  # value: the tag
    wechat_scene = "wechat_scene"  # value: the scene id of a subscribe (qrscene_…)
    community_joined = "community_joined"  # value: the community id
    referrals_reached = "referrals_reached"  # value: N, credited referrals (every community)
    telegram_start = "telegram_start"  # value: the /start payload
    bot = "bot"  # a bot's `enrol` step names the sequence; no value


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: TriggerKind
    value: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _folded_tag(self) -> Self:
        """A tag trigger names the tag as stored: one whatever its case (`kith.core.tags`)."""
        if self.kind is TriggerKind.tag_added and self.value is not None:
            self.value = fold_tag(self.value)
        return self


class SequenceIn(BaseModel):
    """What a marketer writes. `reenrol_after_days` None: a customer is enrolled once ever."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    channels: list[Annotated[str, Field(pattern=CHANNEL_TYPE)]] = Field(min_length=1, max_length=8)
    stop_on_reply: StrictBool = True
    goal: Goal | None = None
    triggers: list[Trigger] = Field(default=[], max_length=20)
    reenrol_after_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("steps", mode="wrap")
    @classmethod
    def _at_the_steps_own_fields(
        cls, value: Any, handler: ValidatorFunctionWrapHandler
    ) -> list[Any]:
        """A step's refusal names its field where the JSON has it (`steps.0.duration`, where
        the builder shows it), not with the step's type that pydantic puts in between to say
        which model of the union it tried (`steps.0.wait.duration`)."""
        try:
            steps: list[Any] = handler(value)
        except ValidationError as exc:
            errors = [_untagged(error) for error in exc.errors()]
            raise ValidationError.from_exception_data(exc.title, errors) from None
        return steps


STEP_TYPES = frozenset(
    str(model.model_fields["type"].default) for model in get_args(get_args(Step)[0])
)


def _untagged(error: ErrorDetails) -> InitErrorDetails:
    """`error` without the union's tag in its location (its type, words and numbers kept)."""
    loc = tuple(error["loc"])
    if len(loc) >= 2 and isinstance(loc[0], int) and loc[1] in STEP_TYPES:
        loc = (loc[0], *loc[2:])
    kind = PydanticCustomError(error["type"], error["msg"], error.get("ctx"))
    return InitErrorDetails(type=kind, loc=loc, input=error["input"])


class Status(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    archived = "archived"


MOVES: dict[Status, frozenset[Status]] = {
    Status.draft: frozenset({Status.active, Status.archived}),
    Status.active: frozenset({Status.paused, Status.archived}),
    Status.paused: frozenset({Status.active, Status.archived}),
    Status.archived: frozenset(),
}


class Sequence(Record):
    """The sequence as edited now (`version` is the latest); runs read `SequenceVersion`."""

    name: str
    status: Status = Status.draft
    version: int = 1
    steps: list[Step]
    channels: list[str]
    stop_on_reply: bool = True
    goal: Goal | None = None
    triggers: list[Trigger] = Field(default_factory=list)
    reenrol_after_days: int | None = None
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime


class SequenceVersion(Record):
    """A frozen copy of what runs: written once per version, never changed."""

    sequence_id: str
    version: int
    steps: list[Step]
    channels: list[str]
    stop_on_reply: bool
    goal: Goal | None = None
    created_at: datetime

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def after(self, step_id: str) -> str | None:
        """The step that follows `step_id` in order (None at the end)."""
        ids = [s.id for s in self.steps]
        at = ids.index(step_id)
        return ids[at + 1] if at + 1 < len(ids) else None


class EnrolmentState(StrEnum):
    active = "active"
    completed = "completed"
    stopped = "stopped"
    skipped = "skipped"  # never started: no reachable channel or no consent (see `reason`)


class StopReason(StrEnum):
    replied = "replied"
    unsubscribed = "unsubscribed"
    goal = "goal"
    removed = "removed"
    erased = "erased"
    archived = "archived"  # the sequence itself was archived


class Enrolment(Record):
    sequence_id: str
    version: int
    customer_id: str
    round: int = 1  # the customer's n-th enrolment in this sequence
    state: EnrolmentState = EnrolmentState.active
    step_id: str | None  # the next step to run (None once finished)
    due_at: datetime | None
    # When the current step first fell due: a hold (quiet hours) moves `due_at`, not this, so
    # a send's `send_by` deadline counts from here.
    step_due_at: datetime | None = None
    # Runs of each step so far (a branch may loop back).
    visits: dict[str, int] = Field(default_factory=dict)
    source: str  # what enrolled them: "api", "segment:<id>", "tag:<t>", "bot", …
    reason: str | None = None  # stop or skip reason
    enrolled_at: datetime
    finished_at: datetime | None = None
    replied_at: datetime | None = None
    clicked_at: datetime | None = None
    converted_at: datetime | None = None
    lease_until: datetime | None = None
    lease_owner: str | None = None
    claim: str | None = None


class RunOutcome(StrEnum):
    done = "done"  # a step without a message (tag, branch, wait …) ran
    sent = "sent"
    skipped = "skipped"
    failed = "failed"


class StepRun(Record):
    """One run of one step for one enrolment; its id is `run_id(enrolment, step, visit)`."""

    sequence_id: str
    version: int
    enrolment_id: str
    customer_id: str
    step_id: str
    visit: int
    type: str
    outcome: RunOutcome
    reason: str | None = None
    message_id: str | None = None
    at: datetime
    # Where the enrolment goes after this run (None: it ends): a retried advance after a
    # crash reads these instead of deciding (a branch, a wait's end) a second time.
    next_step_id: str | None = None
    next_due_at: datetime | None = None
    delivered_at: datetime | None = None
    replied_at: datetime | None = None
    clicked_at: datetime | None = None
    converted_at: datetime | None = None


class StepStats(BaseModel):
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: dict[str, int] = {}
    replied: int = 0
    clicked: int = 0
    converted: int = 0


class SequenceStats(BaseModel):
    enrolled: int = 0
    active: int = 0
    completed: int = 0
    stopped: dict[str, int] = {}
    skipped: dict[str, int] = {}
    steps: dict[str, StepStats] = {}


def parse_time(value: str) -> tuple[int, int]:
    """'09:30' → (9, 30) (the pattern on `WaitUntil.time` guarantees the form)."""
    hours, minutes = re.fullmatch(r"(\d\d):(\d\d)", value).groups()  # type: ignore[union-attr]
    return int(hours), int(minutes)
