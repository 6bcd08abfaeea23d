"""Bot definitions: a bot owns flows; a flow is a trigger and a list of steps.

Steps run in order; `goto`, `branch` and a step's `on_error` jump by step id. A step type
is a pydantic model registered in `STEP_TYPES`, so features added later (tickets, orders,
sequences) bring their own steps without touching the engine.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

from kith.core.errors import InvalidInput
from kith.core.models import Button
from kith.core.timers import Cron, zone


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TriggerKind(StrEnum):
    first_message = "first_message"
    keyword = "keyword"
    regex = "regex"
    intent = "intent"
    button = "button"
    event = "event"
    schedule = "schedule"


class Trigger(Strict):
    """What starts a flow. `values` are keywords, one regex, article ids (intent), button
    payloads, event kinds (`subscribed`, `menu_click:KEY`, `start:PAYLOAD`, `member_joined`),
    or one cron expression (schedule). A schedule reads its cron in `timezone` (default: the
    bot's business hours' zone, else UTC) and runs only where the customer wrote within
    `reply_window_hours` (at most 48: WeChat's customer-service window)."""

    kind: TriggerKind
    values: list[str] = Field(default=[], max_length=100)
    timezone: str | None = Field(default=None, max_length=64)
    reply_window_hours: float = Field(default=24.0, gt=0, le=48)

    @field_validator("values")
    @classmethod
    def _non_empty(cls, values: list[str]) -> list[str]:
        if any(not v.strip() or len(v) > 500 for v in values):
            raise ValueError("trigger values must be 1 to 500 characters")
        return values


class StepBase(Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    type: str


class SendText(StepBase):
    type: Literal["send_text"] = "send_text"
    text: dict[str, str] | str = Field(description="Text, or {language: text}.")
    buttons: list[Button] = Field(default=[], max_length=10)


class SendImage(StepBase):
    type: Literal["send_image"] = "send_image"
    url: HttpUrl
    caption: str = ""


class Validation(StrEnum):
    text = "text"
    email = "email"
    phone = "phone"
    number = "number"
    date = "date"
    choice = "choice"


class Ask(StepBase):
    """Ask, wait for the answer, validate it, store it in a customer attribute."""

    type: Literal["ask"] = "ask"
    text: dict[str, str] | str
    attribute: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}$")
    validate_as: Validation = Field(default=Validation.text, alias="validate")
    choices: list[str] = Field(default=[], max_length=10)
    invalid_text: dict[str, str] | str = "Sorry, that doesn't look right. Please try again."
    max_retries: int = Field(default=2, ge=0, le=10)
    on_give_up: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Condition(Strict):
    """True when every given test holds."""

    attribute: str | None = None
    equals: str | float | bool | None = None
    exists: bool | None = None
    tag: str | None = None
    channel_type: str | None = None
    language: str | None = None
    hour_from: int | None = Field(default=None, ge=0, le=23)
    hour_to: int | None = Field(default=None, ge=0, le=24)


class BranchCase(Strict):
    when: Condition
    goto: str


class Branch(StepBase):
    type: Literal["branch"] = "branch"
    cases: list[BranchCase] = Field(min_length=1, max_length=20)
    otherwise: str | None = None


class SetData(StepBase):
    type: Literal["set"] = "set"
    add_tags: list[str] = []
    remove_tags: list[str] = []
    attributes: dict[str, str | float | bool] = {}


class Webhook(StepBase):
    """POST the conversation context; the JSON answer's fields land in `save_as.<field>`
    attributes and a `reply` field, when present, is said to the customer."""

    type: Literal["webhook"] = "webhook"
    url: HttpUrl
    timeout: float = Field(default=5.0, gt=0, le=30)
    save_as: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,32}$")
    on_error: str | None = None


class Handoff(StepBase):
    type: Literal["handoff"] = "handoff"
    reason: str = "requested by the bot flow"
    team_id: str | None = None


class Goto(StepBase):
    type: Literal["goto"] = "goto"
    target: str


class End(StepBase):
    type: Literal["end"] = "end"


STEP_TYPES: dict[str, type[StepBase]] = {
    cls.model_fields["type"].default: cls
    for cls in (SendText, SendImage, Ask, Branch, SetData, Webhook, Handoff, Goto, End)
}


def register_step(model: type[StepBase]) -> type[StepBase]:
    """Let a feature add a step type (its executor registers with the engine)."""
    STEP_TYPES[model.model_fields["type"].default] = model
    return model


class Flow(Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(default="", max_length=128)
    trigger: Trigger
    steps: list[dict[str, Any]] = Field(min_length=1, max_length=200)


class BusinessHours(Strict):
    timezone: str = "UTC"
    days: dict[str, list[str]] = Field(
        default={d: ["09:00", "18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        description="Weekday (mon…sun) → [open, close] as HH:MM.",
    )


class BotDefinition(Strict):
    """What `/api/v1/bots` accepts."""

    name: str = Field(min_length=1, max_length=128)
    enabled: bool = True
    channel_ids: list[str] = Field(default=[], max_length=100)
    team_id: str | None = None
    flows: list[Flow] = Field(default=[], max_length=100)
    knowledge_base: bool = True
    kb_threshold: float = Field(
        default=0.9, ge=0, le=1, description="Cosine similarity a FAQ match needs (e5 scale)."
    )
    fallback_text: dict[str, str] | str = {
        "en": "Sorry, I didn't understand. Reply 'human' to talk to a person.",
        "zh": "抱歉，我没有理解。回复“人工”联系客服。",
    }
    away_text: dict[str, str] | str = {
        "en": "Our team is away right now; a person will answer from {opens}.",
        "zh": "客服暂时不在线，我们将在 {opens} 起回复您。",
    }
    handoff_text: dict[str, str] | str = {
        "en": "I'm passing you to a person now.",
        "zh": "正在为您转接人工客服。",
    }
    business_hours: BusinessHours | None = None


class Bot(BotDefinition):
    model_config = ConfigDict(extra="ignore")

    id: str
    workspace_id: str
    created_at: datetime


def parse_step(raw: dict[str, Any], where: str) -> StepBase:
    model = STEP_TYPES.get(str(raw.get("type")))
    if model is None:
        raise InvalidInput(
            f"unknown step type; one of: {', '.join(sorted(STEP_TYPES))}", field=f"{where}.type"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join([where, *(str(p) for p in err["loc"])])
        raise InvalidInput(err["msg"], field=field) from None


def _targets(step: StepBase) -> list[str]:
    out: list[str] = []
    if isinstance(step, Goto):
        out.append(step.target)
    if isinstance(step, Branch):
        out += [c.goto for c in step.cases] + ([step.otherwise] if step.otherwise else [])
    for attr in ("on_error", "on_give_up"):
        value = getattr(step, attr, None)
        if value:
            out.append(value)
    return out


def _successors(steps: list[StepBase], i: int) -> list[int]:
    """Where control can go from step i without waiting for the customer."""
    step = steps[i]
    index = {s.id: n for n, s in enumerate(steps)}
    if isinstance(step, (End, Handoff, Ask)):
        return []  # ends, or waits for the customer
    nexts = [index[t] for t in _targets(step)]
    falls_through = not isinstance(step, Goto) and not (isinstance(step, Branch) and step.otherwise)
    if falls_through and i + 1 < len(steps):
        nexts.append(i + 1)
    return nexts


def validate_flow(flow: Flow, where: str) -> list[StepBase]:
    """Parse the steps, check the jumps, and refuse loops that never wait for the customer."""
    steps = [parse_step(raw, f"{where}.steps.{i}") for i, raw in enumerate(flow.steps)]
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        raise InvalidInput("step ids must be unique within a flow", field=f"{where}.steps")
    for i, step in enumerate(steps):
        for target in _targets(step):
            if target not in ids:
                raise InvalidInput(f"no step {target!r}", field=f"{where}.steps.{i}")
    if flow.trigger.kind == TriggerKind.regex:
        for value in flow.trigger.values:
            try:
                re.compile(value)
            except re.error as exc:
                raise InvalidInput(f"bad regex: {exc}", field=f"{where}.trigger.values") from None
    _refuse_busy_loops(steps, where)
    return steps


def _refuse_busy_loops(steps: list[StepBase], where: str) -> None:
    state = [0] * len(steps)  # 0 new, 1 on the path, 2 done

    def visit(i: int) -> None:
        state[i] = 1
        for j in _successors(steps, i):
            if state[j] == 1:
                raise InvalidInput(
                    f"steps loop back to {steps[j].id!r} without waiting for the customer "
                    "(add an ask step to the loop)",
                    field=f"{where}.steps",
                )
            if state[j] == 0:
                visit(j)
        state[i] = 2

    for i in range(len(steps)):
        if state[i] == 0:
            visit(i)


def validate_bot(definition: BotDefinition) -> None:
    flow_ids = [f.id for f in definition.flows]
    if len(set(flow_ids)) != len(flow_ids):
        raise InvalidInput("flow ids must be unique", field="flows")
    for n, flow in enumerate(definition.flows):
        validate_flow(flow, f"flows.{n}")
        if flow.trigger.kind == TriggerKind.schedule:
            _check_schedule(definition, flow.trigger, f"flows.{n}.trigger")


def schedule_timezone(definition: BotDefinition, trigger: Trigger) -> str:
    """The zone a schedule's cron is read in: its own, else the bot's business hours'."""
    if trigger.timezone:
        return trigger.timezone
    return definition.business_hours.timezone if definition.business_hours else "UTC"


def _check_schedule(definition: BotDefinition, trigger: Trigger, where: str) -> None:
    if len(trigger.values) != 1:
        raise InvalidInput(
            'a schedule takes one cron expression, e.g. "0 9 * * mon-fri"', field=f"{where}.values"
        )
    timezone = schedule_timezone(definition, trigger)
    try:
        zone(timezone)
    except ValueError as exc:
        field = f"{where}.timezone" if trigger.timezone else "business_hours.timezone"
        raise InvalidInput(str(exc), field=field) from None
    try:
        Cron(trigger.values[0], timezone)
    except ValueError as exc:
        raise InvalidInput(f"bad cron expression: {exc}", field=f"{where}.values") from None


def localized(text: dict[str, str] | str, language: str | None) -> str:
    """Pick the text for the customer's language, then English, then any."""
    if isinstance(text, str):
        return text
    if language and language in text:
        return text[language]
    return text.get("en") or next(iter(text.values()), "")
