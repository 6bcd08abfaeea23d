"""SLA calendars, policies and the SLA state kept on each ticket: the data the SLA parts speak.

A ticket's state holds, per metric, the business time consumed before `running_since` and the
moment it started counting again: a pause banks what ran and clears `running_since`, a resume
sets it, and a new target (policy or priority changed) is applied to the banked time, so paused
time is never lost nor counted twice. Due moments are derived from it and stored for reads and
for the one indexed `sla_next_at` the worker sweeps.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    computed_field,
    field_validator,
    model_validator,
)

from kith.core.models import Record
from kith.tickets.calendars import ALL_DAY, BusinessCalendar

PRIORITIES = ("low", "normal", "high", "urgent")
PriorityName = Literal["low", "normal", "high", "urgent"]
PAUSING = frozenset({"pending", "on_hold"})
DONE = frozenset({"solved", "closed"})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_TARGET_MINUTES = 366 * 24 * 60
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
Minutes = Annotated[int, Field(gt=0, le=MAX_TARGET_MINUTES)]
# Stored as "YYYY-MM-DD": BSON has no date without a time.
Day = Annotated[date, PlainSerializer(lambda d: d.isoformat(), return_type=str)]


class Metric(StrEnum):
    first_reply = "first_reply"
    next_reply = "next_reply"
    resolution = "resolution"


class CalendarIn(BaseModel):
    """`hours` per weekday as `["09:00", "17:00"]` pairs (an end not after its start runs
    overnight; `["00:00", "00:00"]` is the whole day); `always` is 24/7."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    zone: str = Field(default="UTC", max_length=64)
    always: bool = False
    hours: dict[
        Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        list[tuple[Annotated[str, Field(pattern=HHMM)], Annotated[str, Field(pattern=HHMM)]]],
    ] = Field(default_factory=dict)
    holidays: list[Day] = Field(default_factory=list, max_length=1000)
    # A holiday's name ("Spring Festival"), by its date: for people reading the calendar only.
    holiday_names: dict[
        Annotated[str, Field(pattern=ISO_DAY)], Annotated[str, Field(min_length=1, max_length=100)]
    ] = Field(default_factory=dict, max_length=1000)

    @field_validator("zone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone (such as Asia/Shanghai)") from None
        return zone

    @model_validator(mode="after")
    def _some_hours(self) -> Self:
        if not self.always and not any(self.hours.values()):
            raise ValueError("give business hours on at least one weekday, or always")
        if any(len(spans) > 8 for spans in self.hours.values()):
            raise ValueError("at most 8 intervals a day")
        days = {d.isoformat() for d in self.holidays}
        stray = sorted(set(self.holiday_names) - days)
        if stray:
            raise ValueError(f"holiday_names: {stray[0]} is not among the holidays")
        return self


class SlaCalendar(CalendarIn, Record):
    model_config = ConfigDict(extra="ignore")

    created_at: datetime

    def business(self) -> BusinessCalendar:
        if self.always:
            return BusinessCalendar.always(self.zone, frozenset(self.holidays))
        weekly = {
            WEEKDAYS.index(day): tuple((_time(a), _time(b)) for a, b in spans)
            for day, spans in self.hours.items()
        }
        return BusinessCalendar(self.zone, weekly, frozenset(self.holidays))


def _time(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


AROUND_THE_CLOCK = BusinessCalendar("UTC", {day: ALL_DAY for day in range(7)})


class Targets(BaseModel):
    """Minutes of business time per metric; a metric left out is not measured."""

    model_config = ConfigDict(extra="forbid")

    first_reply: Minutes | None = None
    next_reply: Minutes | None = None
    resolution: Minutes | None = None

    def minutes(self, metric: Metric) -> int | None:
        value: int | None = getattr(self, metric.value)
        return value


class RaisePriority(BaseModel):
    """One step up (urgent stays urgent), or straight `to` a priority."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["raise_priority"] = "raise_priority"
    to: PriorityName | None = None
    metrics: list[Metric] = Field(default_factory=lambda: list(Metric))


class Reassign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["reassign"] = "reassign"
    user_id: str | None = Field(default=None, max_length=64)
    team_id: str | None = Field(default=None, max_length=64)
    metrics: list[Metric] = Field(default_factory=lambda: list(Metric))

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.user_id is None and self.team_id is None:
            raise ValueError("give user_id or team_id")
        return self


class NotifyTeam(BaseModel):
    """A note in the inbox on the ticket's conversation, for the team."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["notify_team"] = "notify_team"
    team_id: str = Field(max_length=64)
    metrics: list[Metric] = Field(default_factory=lambda: list(Metric))


BreachAction = Annotated[RaisePriority | Reassign | NotifyTeam, Field(discriminator="type")]


class PolicyIn(BaseModel):
    """`team_id`: the policy of that team's tickets; `default`: the workspace's otherwise."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    calendar_id: str | None = Field(default=None, max_length=64)  # None: around the clock
    targets: dict[PriorityName, Targets]
    warn_before_minutes: int = Field(default=0, ge=0, le=MAX_TARGET_MINUTES)
    breach_actions: list[BreachAction] = Field(default_factory=list, max_length=10)
    team_id: str | None = Field(default=None, max_length=64)
    default: bool = False


class SlaPolicy(PolicyIn, Record):
    model_config = ConfigDict(extra="ignore")

    created_at: datetime
    updated_at: datetime


class MetricClock(BaseModel):
    """One metric of one ticket. `consumed` is business seconds counted before
    `running_since`; `running_since` is None while paused or not measuring. `warned` and
    `breached` belong to the current cycle (a next reply starts a new one); `achieved` and
    `missed` count cycles for the report."""

    model_config = ConfigDict(extra="ignore")

    target: int | None = None  # seconds
    active: bool = False
    consumed: float = 0.0
    running_since: datetime | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    warned: bool = False
    breached: bool = False
    cycle: int = 0
    achieved: int = 0
    missed: int = 0
    met_at: datetime | None = None


class TicketSla(BaseModel):
    """What `sla` holds on a ticket document; `rev` grows with every write of it, so the
    worker's update is conditional on the state it read."""

    model_config = ConfigDict(extra="ignore")

    policy_id: str | None = None
    policy_name: str | None = None
    calendar_id: str | None = None
    warn_before: int = 0  # seconds of business time
    paused: bool = False
    metrics: dict[Metric, MetricClock] = Field(default_factory=dict)
    breached: list[Metric] = Field(default_factory=list)
    rev: int = 0

    def clock(self, metric: Metric) -> MetricClock:
        return self.metrics.setdefault(metric, MetricClock())

    def due(self, metric: Metric) -> datetime | None:
        return self.metrics[metric].due_at if metric in self.metrics else None

    # Stored with the state and answered by the ticket API: what an agent reads.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def policy(self) -> dict[str, str] | None:
        if self.policy_id is None:
            return None
        return {"id": self.policy_id, "name": self.policy_name or ""}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_reply_due_at(self) -> datetime | None:
        return self.due(Metric.first_reply)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def next_reply_due_at(self) -> datetime | None:
        return self.due(Metric.next_reply)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resolution_due_at(self) -> datetime | None:
        return self.due(Metric.resolution)
