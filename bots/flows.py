"""Bot definitions: a bot owns flows; a flow is a trigger and a list of steps.

Steps run in order; a step may jump to others by id (`goto`, `branch`, `on_error` …). A step
type is a `StepType`: a model whose `type: Literal[...]` names it, declared with the coroutine
that runs it. The app hands its list of step types (`kith.bots.steps` lists the built-in ones;
features such as tickets, orders and sequences add theirs) to `StepTypes`, which types flows
with the discriminated union of their models: checked when a bot is saved, shown in the
OpenAPI document, and run by the engine.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import reduce
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Generic,
    Literal,
    TypeVar,
    get_args,
    get_origin,
)

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    field_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from kith.bots.patterns import PatternError, compile_pattern
from kith.core.errors import InvalidInput, KithError, all_refused, raise_all, validated
from kith.core.storable import DocumentKey
from kith.core.timers import Cron, zone

if TYPE_CHECKING:
    from kith.bots.engine import BotEngine, Turn


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _text_or_texts(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One error at the field (`steps.0.text`), not one per member of the union."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "localized_text", "Input should be a text, or an object of texts by language"
        ) from None


LocalizedText = Annotated[dict[DocumentKey, str] | str, WrapValidator(_text_or_texts)]
"""A text, or {language: text} (`localized` picks one). What the bot says: `{name}` and
`{attributes.x}` are filled in (`BotEngine.fill`); a template's `{{ … }}` or `{% … %}`
(broadcasts' and sequences' syntax) would reach the customer as typed, so a save refuses it
(`template_refusals`)."""

TEMPLATE_MARKS = ("{{", "{%")


def _is_localized_text(field: Any) -> bool:
    return any(isinstance(m, WrapValidator) and m.func is _text_or_texts for m in field.metadata)


def text_refusals(value: Any, where: str) -> list[KithError]:
    """Refusals of a bot text as given (a text, or texts by language) that holds a
    template's `{{` or `{%`: named at the text, or at its language (`steps.0.text.zh`)."""
    texts = {"": value} if isinstance(value, str) else value
    if not isinstance(texts, Mapping):
        return []
    errors: list[KithError] = []
    for language, text in texts.items():
        if not isinstance(text, str):
            continue
        found = next((mark for mark in TEMPLATE_MARKS if mark in text), None)
        if found is None:
            continue
        field = f"{where}.{language}" if language else where
        errors.append(
            InvalidInput(
                f"bot texts are not templates: {found!r} would be sent as typed; write "
                "{name} for the customer's name or {attributes.x} for an attribute",
                field=field,
                reason="bot_template_syntax",
                limits={"found": found},
            )
        )
    return errors


def template_refusals(model: BaseModel, given: Mapping[str, Any], where: str) -> list[KithError]:
    """`text_refusals` of each of `model`'s texts (`LocalizedText` fields) as `given`."""
    errors: list[KithError] = []
    for name, field in type(model).model_fields.items():
        if _is_localized_text(field):
            errors.extend(text_refusals(given.get(field.alias or name), f"{where}{name}"))
    return errors


LABEL_MAX = 64  # what `kith.core.models.Button` holds, so every language's label fits one

Label = Annotated[str, StringConstraints(min_length=1, max_length=LABEL_MAX)]


def _label_or_labels(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """As `_text_or_texts`: one error at the field (`steps.0.buttons.1.label`)."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "localized_label",
            "Input should be a label of 1 to {max_length} characters, or an object of such "
            "labels by language",
            {"min_length": 1, "max_length": LABEL_MAX},
        ) from None


Labels = Annotated[dict[DocumentKey, Label], Field(min_length=1)]
LocalizedLabel = Annotated[Labels | Label, WrapValidator(_label_or_labels)]
"""A button's label, or {language: label}, picked as texts are (`localized`)."""


class TriggerKind(StrEnum):
    first_message = "first_message"
    keyword = "keyword"
    regex = "regex"
    intent = "intent"
    button = "button"
    event = "event"
    schedule = "schedule"


# The triggers that start a flow on one of their values: without any, the flow never starts.
NEEDS_VALUES = frozenset(
    {
        TriggerKind.keyword,
        TriggerKind.regex,
        TriggerKind.intent,
        TriggerKind.button,
        TriggerKind.event,
    }
)


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
    """What every step has. A step type subclasses it with `type: Literal["name"] = "name"`
    (the discriminator of the union flows are typed with) and says where the run may go from
    it, so flows are checked for dangling jumps and busy loops whatever their step types."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    type: str

    ends_run: ClassVar[bool] = False
    """The run stops here (the flow ends, or waits for the customer), so no busy loop passes."""

    def targets(self) -> list[str]:
        """The ids of the steps this one may jump to."""
        return []

    def falls_through(self) -> bool:
        """Whether the run may go on to the next step."""
        return True

    def refusals(self, where: str) -> list[KithError]:
        """What is wrong with the step at `where` that its fields' types cannot say (checked
        when the bot is saved, never when it is read back: a stored bot always loads)."""
        return []


def blank(text: str | dict[str, str]) -> bool:
    """A text, or every language's text, that says nothing."""
    values = [text] if isinstance(text, str) else list(text.values())
    return not any(v.strip() for v in values)


Outcome = tuple[Literal["next", "goto", "wait", "stop"], str | None]  # with the goto's step id
Step = TypeVar("Step", bound=StepBase)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class StepType(Generic[Step]):
    """A kind of step: its model and the coroutine that runs it, declared together. The app
    hands its list of step types to the engine and to the bots API (`kith.bots.steps` lists
    the built-in ones; features add theirs)."""

    model: type[Step]
    run: Callable[[BotEngine, Turn, Step], Awaitable[Outcome]]

    def __post_init__(self) -> None:
        field = self.model.model_fields.get("type")
        literal = field is not None and get_origin(field.annotation) is Literal
        if not literal or field is None or get_args(field.annotation) != (field.default,):
            raise TypeError(f'{self.model.__name__} needs `type: Literal["name"] = "name"`')

    @property
    def name(self) -> str:
        return str(self.model.model_fields["type"].default)


class Flow(Strict):
    """A trigger and the steps it runs."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(default="", max_length=128)
    trigger: Trigger
    steps: list[Any] = Field(
        min_length=1,
        max_length=200,
        description="As stored; typed by the app's step types (`StepTypes.flow`).",
    )


class BusinessHours(Strict):
    timezone: str = "UTC"
    days: dict[DocumentKey, list[str]] = Field(
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
    fallback_text: LocalizedText = {
        "en": "Sorry, I didn't understand. Reply 'human' to talk to a person.",
        "zh": "抱歉，我没有理解。回复“人工”联系客服。",
    }
    away_text: LocalizedText = {
        "en": "Our team is away right now; a person will answer from {opens}.",
        "zh": "客服暂时不在线，我们将在 {opens} 起回复您。",
    }
    handoff_text: LocalizedText = {
        "en": "I'm passing you to a person now.",
        "zh": "正在为您转接人工客服。",
    }
    business_hours: BusinessHours | None = None


class Bot(BotDefinition):
    """A saved bot."""

    model_config = ConfigDict(extra="ignore")

    id: str
    workspace_id: str
    created_at: datetime


class StepTypes:
    """The step types one app knows, and the models they type: `flow`, `definition` (what
    saving a bot accepts) and `bot` (what is answered) have the discriminated union of the
    step models as their steps, so a step is checked when its flow is saved and each step
    model shows in the OpenAPI document."""

    def __init__(self, step_types: Iterable[StepType[Any]]) -> None:
        self._types: dict[str, StepType[Any]] = {}
        for step_type in step_types:
            if step_type.name in self._types:
                raise ValueError(f"two step types are named {step_type.name!r}")
            self._types[step_type.name] = step_type
        if not self._types:
            raise ValueError("no step types")
        models = tuple(t.model for t in self._types.values())
        # Built at run time from the installed step types: not a static type, hence Any.
        annotated: Any = Annotated
        listed: Any = list
        step = annotated[
            reduce(operator.or_, models),
            Field(discriminator="type"),
            WrapValidator(self._name_the_field),
        ]
        self._steps: TypeAdapter[list[StepBase]] = TypeAdapter(listed[step])
        self._step: TypeAdapter[StepBase] = TypeAdapter(step)
        about = "Run in order; each step's `type` says which step model it is."
        steps = (listed[step], Field(min_length=1, max_length=200, description=about))
        self.flow: type[Flow] = _typed(Flow, steps=steps)
        flows: tuple[Any, Any] = (listed[self.flow], Field(default=[], max_length=100))
        self.definition: type[BotDefinition] = _typed(BotDefinition, flows=flows)
        self.bot: type[Bot] = _typed(Bot, flows=flows)

    @property
    def models(self) -> dict[str, type[StepBase]]:
        """Each step type's model by its name (what the bot editor draws a step's form from)."""
        return {name: step_type.model for name, step_type in self._types.items()}

    def executor(self, step: StepBase) -> Callable[[BotEngine, Turn, Any], Awaitable[Outcome]]:
        return self._types[step.type].run

    def parse(self, steps: list[Any], where: str = "steps") -> list[StepBase]:
        """A flow's steps, typed (as stored, or already typed); refused naming the field."""
        try:
            return self._steps.validate_python(steps)
        except ValidationError as exc:
            raise all_refused(exc.errors(), steps, where) from None

    def each(self, steps: list[Any]) -> dict[int, StepBase]:
        """The steps as given that are well-formed on their own, typed, by their place (what
        the checks by hand read when others are refused)."""
        typed: dict[int, StepBase] = {}
        for i, step in enumerate(steps):
            try:
                typed[i] = self._step.validate_python(step)
            except ValidationError:
                continue
        return typed

    def _name_the_field(self, value: Any, handler: ValidatorFunctionWrapHandler) -> StepBase:
        """Errors name the step's own field (`steps.2.text`, not the union's `steps.2.ask.text`),
        and an unknown or missing step type is an error of `type` that lists the known ones."""
        try:
            step: StepBase = handler(value)
        except ValidationError as exc:
            errors = [self._untagged(error) for error in exc.errors()]
            raise ValidationError.from_exception_data(exc.title, errors) from None
        return step

    def _untagged(self, error: ErrorDetails) -> InitErrorDetails:
        expected = {"expected": ", ".join(repr(name) for name in self._types)}
        if error["type"] == "union_tag_invalid":
            unknown = PydanticCustomError(
                "unknown_step_type", "unknown step type; one of: {expected}", expected
            )
            return InitErrorDetails(type=unknown, loc=("type",), input=error["input"])
        if error["type"] == "union_tag_not_found":
            missing = PydanticCustomError("missing", "a step needs a type: {expected}", expected)
            return InitErrorDetails(type=missing, loc=("type",), input=error["input"])
        same = PydanticCustomError(error["type"], error["msg"], error.get("ctx"))
        return InitErrorDetails(type=same, loc=error["loc"][1:], input=error["input"])


def _typed(model: type[M], **fields: Any) -> type[M]:
    """`model` under its own name and docstring, with `fields` typed by the app's steps."""
    doc, module = model.__doc__, model.__module__
    return create_model(model.__name__, __base__=model, __doc__=doc, __module__=module, **fields)


def _successors(steps: list[StepBase], i: int) -> list[int]:
    """Where the run can go from step i without waiting for the customer."""
    step = steps[i]
    if step.ends_run:
        return []
    index = {s.id: n for n, s in enumerate(steps)}
    nexts = [index[t] for t in step.targets()]
    if step.falls_through() and i + 1 < len(steps):
        nexts.append(i + 1)
    return nexts


def check_steps(steps: list[StepBase], where: str) -> None:
    """Step ids are unique, jumps land on a step, and no loop runs without waiting."""
    raise_all(step_refusals(steps, where))


def step_refusals(steps: list[StepBase], where: str) -> list[KithError]:
    """Every way the steps of the flow at `where` are wrong: ids used twice, jumps to no
    step, loops that never wait for the customer."""
    given = [s.model_dump(mode="json", by_alias=True) for s in steps]
    return _steps_refusals(given, dict(enumerate(steps)), where)


def _steps_refusals(given: list[Any], typed: dict[int, StepBase], where: str) -> list[KithError]:
    """`step_refusals` of a flow's steps as `given`, of which those at the keys of `typed`
    are well-formed: ids (as given, so that a jump to a step refused for another reason
    lands) used twice, jumps of the typed steps to no step, and, when every step is typed
    and nothing else is wrong, loops."""
    errors: list[KithError] = []
    ids = _ids([s for s in given if isinstance(s, Mapping)])
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        errors.append(
            InvalidInput(
                "step ids must be unique within a flow",
                field=f"{where}.steps",
                reason="step_id_twice",
                limits={"step": twice[0]},
            )
        )
    for i, step in sorted(typed.items()):
        errors.extend(step.refusals(f"{where}.steps.{i}"))
        errors.extend(
            template_refusals(step, step.model_dump(by_alias=True), f"{where}.steps.{i}.")
        )
        for target in step.targets():
            if target not in ids:
                errors.append(
                    InvalidInput(
                        f"no step {target!r}",
                        field=f"{where}.steps.{i}",
                        reason="no_step",
                        limits={"step": target},
                    )
                )
    if not errors and len(typed) == len(given):  # loops: through known, unique ids only
        errors.extend(_busy_loops([typed[i] for i in range(len(given))], where))
    return errors


def _busy_loops(steps: list[StepBase], where: str) -> list[KithError]:
    state = [0] * len(steps)  # 0 new, 1 on the path, 2 done
    errors: list[KithError] = []

    def visit(i: int) -> None:
        state[i] = 1
        for j in _successors(steps, i):
            if state[j] == 1:
                errors.append(
                    InvalidInput(
                        f"steps loop back to {steps[j].id!r} without waiting for the customer "
                        "(add an ask step to the loop)",
                        field=f"{where}.steps",
                        reason="bot_loop",
                        limits={"step": steps[j].id},
                    )
                )
            if state[j] == 0:
                visit(j)
        state[i] = 2

    for i in range(len(steps)):
        if state[i] == 0:
            visit(i)
    return errors


@dataclass
class BotParts:
    """A bot as given to a save, read part by part: the refusals of every part at once (the
    model's and the checks by hand of each part well-formed on its own), and the parts the
    store's checks read (`kith.bots.store`). `typed` is the definition with its steps typed,
    when the model took it whole."""

    given: dict[str, Any]
    typed: BotDefinition | None
    refusals: list[KithError]
    triggers: dict[int, Trigger]
    steps: dict[int, dict[int, StepBase]]

    def strings(self, field: str) -> list[tuple[int, str]]:
        """The texts of a list field as given (`channel_ids`), with their places."""
        values = self.given.get(field)
        listed = values if isinstance(values, list) else []
        return [(n, v) for n, v in enumerate(listed) if isinstance(v, str)]


def read_bot(given: BotDefinition | Mapping[str, Any], step_types: StepTypes) -> BotParts:
    """What saving a bot checks, every refusal in one answer: an author who fixes them all
    meets no second round. The model's refusals come first; then, for every trigger and
    step the model took on its own, the checks it cannot make (`StepBase.refusals`, jumps,
    loops, trigger values, regexes, crons)."""
    raw = _as_given(given)
    typed, errors = validated(step_types.definition, raw)
    flows = raw.get("flows")
    flows = [f if isinstance(f, Mapping) else {} for f in flows] if isinstance(flows, list) else []
    errors.extend(_flow_ids_twice(flows))
    errors.extend(_bot_text_refusals(raw))
    zone_of_hours = _hours_zone(raw)
    triggers: dict[int, Trigger] = {}
    steps: dict[int, dict[int, StepBase]] = {}
    for n, flow in enumerate(flows):
        where = f"flows.{n}"
        trigger = _parsed(Trigger, flow.get("trigger"))
        if trigger is not None:
            triggers[n] = trigger
            errors.extend(trigger_refusals(trigger, zone_of_hours, f"{where}.trigger"))
        given_steps = flow.get("steps")
        if isinstance(given_steps, list):
            steps[n] = step_types.each(given_steps)
            errors.extend(_steps_refusals(given_steps, steps[n], where))
    return BotParts(raw, typed, errors, triggers, steps)


def validate_bot(given: BotDefinition | Mapping[str, Any], step_types: StepTypes) -> BotDefinition:
    """The definition with its steps typed; refused with every bad field at once."""
    parts = read_bot(given, step_types)
    raise_all(parts.refusals)
    if parts.typed is None:  # pragma: no cover - a model refusal names a field
        raise InvalidInput("the bot is not valid", field="body")
    return parts.typed


def _bot_text_refusals(raw: Mapping[str, Any]) -> list[KithError]:
    """The bot's own texts (fallback, away, hand-off) holding a template's syntax."""
    errors: list[KithError] = []
    for name, field in BotDefinition.model_fields.items():
        if _is_localized_text(field):
            errors.extend(text_refusals(raw.get(name), name))
    return errors


def _as_given(given: BotDefinition | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(given, BaseModel):
        return given.model_dump(mode="json", by_alias=True)
    return dict(given)


def _parsed(model: type[M], value: Any) -> M | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _hours_zone(raw: Mapping[str, Any]) -> str | None:
    """The business hours' zone as given (None when they are malformed: their own refusal
    says so, and a schedule's zone is then not checked against them)."""
    hours = raw.get("business_hours")
    if hours is None:
        return "UTC"
    parsed = _parsed(BusinessHours, hours)
    return parsed.timezone if parsed else None


def _ids(items: list[Mapping[str, Any]]) -> list[str]:
    """The ids given as texts (another id is the model's refusal)."""
    return [i for i in (item.get("id") for item in items) if isinstance(i, str)]


def _flow_ids_twice(flows: list[Mapping[str, Any]]) -> list[KithError]:
    ids = _ids(flows)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if not twice:
        return []
    return [
        InvalidInput(
            "flow ids must be unique",
            field="flows",
            reason="flow_id_twice",
            limits={"flow": twice[0]},
        )
    ]


def trigger_refusals(trigger: Trigger, hours_zone: str | None, where: str) -> list[KithError]:
    """What the trigger at `where` cannot be that its fields' types cannot say; `hours_zone`
    is the bot's business hours' zone (None: not known, so not checked)."""
    errors: list[KithError] = []
    if trigger.kind in NEEDS_VALUES and not trigger.values:
        errors.append(
            InvalidInput(
                "this trigger needs at least one value, or the flow never starts",
                field=f"{where}.values",
                reason="trigger_values_required",
            )
        )
    if trigger.kind == TriggerKind.regex:
        errors.extend(_regex_refusals(trigger, where))
    if trigger.kind == TriggerKind.schedule:
        errors.extend(_schedule_refusals(trigger, hours_zone, where))
    return errors


def _regex_refusals(trigger: Trigger, where: str) -> list[KithError]:
    errors: list[KithError] = []
    for value in trigger.values:
        try:
            compile_pattern(value)
        except PatternError as exc:
            errors.append(
                InvalidInput(
                    f"bad regex (RE2 syntax): {exc}",
                    field=f"{where}.values",
                    reason="bad_regex",
                    limits={"error": str(exc)},
                )
            )
    return errors


def schedule_timezone(definition: BotDefinition, trigger: Trigger) -> str:
    """The zone a schedule's cron is read in: its own, else the bot's business hours'."""
    if trigger.timezone:
        return trigger.timezone
    return definition.business_hours.timezone if definition.business_hours else "UTC"


def _schedule_refusals(trigger: Trigger, hours_zone: str | None, where: str) -> list[KithError]:
    if len(trigger.values) != 1:
        return [
            InvalidInput(
                'a schedule takes one cron expression, e.g. "0 9 * * mon-fri"',
                field=f"{where}.values",
                reason="one_cron",
            )
        ]
    errors: list[KithError] = []
    timezone = trigger.timezone or hours_zone or "UTC"
    if trigger.timezone or hours_zone:
        try:
            zone(timezone)
        except ValueError as exc:
            field = f"{where}.timezone" if trigger.timezone else "business_hours.timezone"
            errors.append(InvalidInput(str(exc), field=field, reason="unknown_timezone"))
            timezone = "UTC"  # the cron is still read, so that its own mistake shows too
    try:
        Cron(trigger.values[0], timezone)
    except ValueError as exc:
        errors.append(
            InvalidInput(
                f"bad cron expression: {exc}",
                field=f"{where}.values",
                reason="bad_cron",
                limits={"error": str(exc)},
            )
        )
    return errors


def localized(text: dict[str, str] | str, language: str | None) -> str:
    """Pick the text for the customer's language, then English, then any."""
    if isinstance(text, str):
        return text
    if language and language in text:
        return text[language]
    return text.get("en") or next(iter(text.values()), "")
