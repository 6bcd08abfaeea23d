"""The built-in step types: each step's model next to the coroutine that runs it, and the
one list of them (`STEP_TYPES`) the app hands to the engine and the bots API with the step
types its features add.

An executor gets the engine (for its effects: `say`, `set_attributes`, `handoff`), the turn
and its step, and answers where the run goes: `next`, `goto` a step id, `wait` for the
customer, or `stop`.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, HttpUrl

from kith.bots.flows import (
    Labels,
    LocalizedLabel,
    LocalizedText,
    Outcome,
    StepBase,
    StepType,
    StepTypes,
    Strict,
    blank,
    localized,
)
from kith.bots.webhook_keys import webhook_secret
from kith.core.customers import do_update_customer, get_customer
from kith.core.errors import InvalidInput, KithError
from kith.core.httpcap import post_capped
from kith.core.models import LINK_MAX, Attachment, Button, link_refusal
from kith.core.signatures import SIGNATURE_HEADER, sign_now
from kith.core.storable import DocumentKey
from kith.core.tags import FoldedTag, fold_tags

if TYPE_CHECKING:
    from kith.bots.engine import BotEngine, Turn

log = logging.getLogger(__name__)


class BotButton(Strict):
    """A button under a bot's text. Its label is a text or {language: label}, shown in the
    customer's language as the bot's texts are; the customer picks it by pressing it (its
    `payload`), by typing its number, or by typing its label in any of its languages."""

    label: LocalizedLabel = Field(description="Label, or {language: label}.")
    payload: str | None = Field(default=None, max_length=64)
    url: str | None = Field(
        default=None,
        max_length=LINK_MAX,
        description="A web address (https:// or http://) the button opens. With a payload "
        "too, channels that can (Slack; WeChat and the API channel by number) also send the "
        "payload back.",
    )

    def refusals(self, where: str) -> list[KithError]:
        """A button does something, and its link is one every channel opens (checked on
        saving, not in the model: a bot stored before the check still loads)."""
        if not self.payload and not self.url:
            return [
                InvalidInput(
                    "a button needs a payload or a url", field=where, reason="button_does_nothing"
                )
            ]
        refused = link_refusal(self.url, f"{where}.url") if self.url else None
        return [refused] if refused else []

    def shown(self, language: str | None) -> Button:
        """The button as sent to a customer who reads `language`."""
        return Button(label=localized(self.label, language), payload=self.payload, url=self.url)

    def labels(self) -> list[str]:
        """Every language's label: what typing picks the button by."""
        return [self.label] if isinstance(self.label, str) else list(self.label.values())


class SendText(StepBase):
    type: Literal["send_text"] = "send_text"
    text: LocalizedText = Field(description="Text, or {language: text}.")
    buttons: list[BotButton] = Field(default=[], max_length=10)

    def refusals(self, where: str) -> list[KithError]:
        """A message says something, and a button does something: a blank text would fail
        in the customer's conversation (and stop the flow) instead of here."""
        errors: list[KithError] = []
        if blank(self.text):
            errors.append(
                InvalidInput("the text is empty", field=f"{where}.text", reason="text_required")
            )
        for n, button in enumerate(self.buttons):
            errors += button.refusals(f"{where}.buttons.{n}")
        return errors


async def send_text(engine: BotEngine, turn: Turn, step: SendText) -> Outcome:
    await engine.say(turn, localized(step.text, turn.language), step.buttons)
    return "next", None


class SendImage(StepBase):
    type: Literal["send_image"] = "send_image"
    url: HttpUrl
    caption: str = ""


async def send_image(engine: BotEngine, turn: Turn, step: SendImage) -> Outcome:
    image = Attachment(kind="image", url=str(step.url), name=step.caption or None)
    await engine.say(turn, step.caption, attachments=[image])
    return "next", None


class Validation(StrEnum):
    text = "text"
    email = "email"
    phone = "phone"
    number = "number"
    date = "date"
    choice = "choice"


class Ask(StepBase):
    """Ask, wait for the answer, validate it, store it in a customer attribute (the engine
    checks the answer when it comes: `kith.bots.answers`)."""

    type: Literal["ask"] = "ask"
    text: LocalizedText
    attribute: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}$")
    validate_as: Validation = Field(default=Validation.text, alias="validate")
    choices: list[Labels | str] = Field(
        default=[],
        max_length=10,
        description="Choices, each a text or {language: text}; the answer is stored as the "
        "choice's English text (else its first).",
    )
    invalid_text: LocalizedText = "Sorry, that doesn't look right. Please try again."
    max_retries: int = Field(default=2, ge=0, le=10)
    on_give_up: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    ends_run: ClassVar[bool] = True

    def targets(self) -> list[str]:
        return [self.on_give_up] if self.on_give_up else []

    def choice_buttons(self, language: str | None) -> list[Button]:
        """The choices as buttons in the customer's language (a typed label picks one)."""
        return [Button(label=localized(c, language)[:64], payload=None) for c in self.choices]

    def choice_labels(self) -> list[tuple[str, list[str]]]:
        """Each choice's stored value (its English text, else its first) and all its texts."""
        return [
            (c, [c])
            if isinstance(c, str)
            else (c.get("en") or next(iter(c.values())), [*c.values()])
            for c in self.choices
        ]

    def refusals(self, where: str) -> list[KithError]:
        """A question says something (a blank one would fail in the conversation)."""
        if blank(self.text):
            return [
                InvalidInput("the question is empty", field=f"{where}.text", reason="text_required")
            ]
        return []


async def ask(engine: BotEngine, turn: Turn, step: Ask) -> Outcome:
    await engine.say(turn, localized(step.text, turn.language), step.choice_buttons(turn.language))
    turn.session.update(waiting=step.id, retries=0)
    return "wait", None


class Condition(Strict):
    """True when every given test holds."""

    attribute: str | None = None
    equals: str | float | bool | None = None
    exists: bool | None = None
    tag: FoldedTag | None = None
    channel_type: str | None = None
    language: str | None = None
    hour_from: int | None = Field(default=None, ge=0, le=23)
    hour_to: int | None = Field(default=None, ge=0, le=24)

    def holds(self, turn: Turn, now: datetime) -> bool:
        attributes = turn.customer.get("attributes", {})
        if self.attribute is not None:
            present = self.attribute in attributes
            if self.exists is not None and present != self.exists:
                return False
            if self.equals is not None and attributes.get(self.attribute) != self.equals:
                return False
        if self.tag is not None and self.tag not in turn.customer.get("tags", []):
            return False
        if self.channel_type is not None and self.channel_type != turn.conversation.channel_type:
            return False
        if self.language is not None and self.language != turn.language:
            return False
        if self.hour_from is not None and now.hour < self.hour_from:
            return False
        return not (self.hour_to is not None and now.hour >= self.hour_to)


class BranchCase(Strict):
    when: Condition
    goto: str


class Branch(StepBase):
    type: Literal["branch"] = "branch"
    cases: list[BranchCase] = Field(min_length=1, max_length=20)
    otherwise: str | None = None

    def targets(self) -> list[str]:
        return [c.goto for c in self.cases] + ([self.otherwise] if self.otherwise else [])

    def falls_through(self) -> bool:
        return self.otherwise is None


async def branch(engine: BotEngine, turn: Turn, step: Branch) -> Outcome:
    now = turn.core.clock.now()
    for case in step.cases:
        if case.when.holds(turn, now):
            return "goto", case.goto
    return ("goto", step.otherwise) if step.otherwise else ("next", None)


class SetData(StepBase):
    type: Literal["set"] = "set"
    add_tags: list[FoldedTag] = Field(default=[])  # one tag whatever its case (kith.core.tags)
    remove_tags: list[FoldedTag] = Field(default=[])
    attributes: dict[DocumentKey, str | float | bool] = Field(default={})


async def set_data(engine: BotEngine, turn: Turn, step: SetData) -> Outcome:
    await engine.set_attributes(turn, dict(step.attributes))
    tags = [t for t in fold_tags(turn.customer.get("tags", [])) if t not in step.remove_tags]
    tags = list(dict.fromkeys([*tags, *step.add_tags]))
    if step.add_tags or step.remove_tags:
        # Through the action, so `customer.updated` names the tags added (segments, sequence
        # triggers and goals react to it).
        workspace_id = turn.conversation.workspace_id
        customer = await get_customer(turn.core, workspace_id, turn.customer_id)
        await do_update_customer(turn.core, customer, actor=turn.author, fields={"tags": tags})
        turn.customer["tags"] = tags
    return "next", None


class Webhook(StepBase):
    """POST the conversation context; the JSON answer's fields land in `save_as.<field>`
    attributes and a `reply` field, when present, is said to the customer."""

    type: Literal["webhook"] = "webhook"
    url: HttpUrl
    timeout: float = Field(default=5.0, gt=0, le=30)
    save_as: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,32}$")
    on_error: str | None = None

    def targets(self) -> list[str]:
        return [self.on_error] if self.on_error else []


async def webhook(engine: BotEngine, turn: Turn, step: Webhook) -> Outcome:
    """Signed with the bot's webhook key (`X-Kith-Signature`, as API-channel callbacks)."""
    body = {
        "conversation_id": turn.conversation.id,
        "channel_type": turn.conversation.channel_type,
        "text": turn.text,
        "language": turn.language,
        "customer": {
            "id": turn.customer_id,
            "name": turn.customer.get("name"),
            "tags": turn.customer.get("tags", []),
            "attributes": turn.customer.get("attributes", {}),
        },
    }
    content = json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    try:
        secret = await webhook_secret(turn.core, turn.bot.id)  # unreadable: the error branch
        if secret:
            headers[SIGNATURE_HEADER] = sign_now(turn.core.clock, secret, content)
        # core.http refuses private destinations (kith.core.egress); the answer is capped.
        answer = await post_capped(
            turn.core.http,
            str(step.url),
            max_bytes=turn.core.settings.outbox_response_max_bytes,
            content=content,
            headers=headers,
            timeout=step.timeout,
        )
        if not 200 <= answer.status_code < 300:
            raise ValueError(f"the webhook answered HTTP {answer.status_code}")
        data: Any = json.loads(answer.body)
        if not isinstance(data, dict):
            raise ValueError("the webhook did not answer a JSON object")
    except Exception as exc:
        log.warning("bot webhook failed: %s", exc, extra={"url": str(step.url)})
        return ("goto", step.on_error) if step.on_error else ("stop", None)
    if step.save_as:
        scalars = {
            f"{step.save_as}_{k}": v
            for k, v in data.items()
            if isinstance(v, (str, int, float, bool)) and re.fullmatch(r"[A-Za-z0-9_]{1,32}", k)
        }
        await engine.set_attributes(turn, scalars)
    if isinstance(data.get("reply"), str) and data["reply"].strip():
        await engine.say(turn, data["reply"][:4000])
    return "next", None


class Handoff(StepBase):
    type: Literal["handoff"] = "handoff"
    reason: str = "requested by the bot flow"
    team_id: str | None = None

    ends_run: ClassVar[bool] = True


async def handoff(engine: BotEngine, turn: Turn, step: Handoff) -> Outcome:
    await engine.handoff(turn, step.reason, step.team_id)
    return "stop", None


class Goto(StepBase):
    type: Literal["goto"] = "goto"
    target: str

    def targets(self) -> list[str]:
        return [self.target]

    def falls_through(self) -> bool:
        return False


async def goto(engine: BotEngine, turn: Turn, step: Goto) -> Outcome:
    return "goto", step.target


class End(StepBase):
    type: Literal["end"] = "end"

    ends_run: ClassVar[bool] = True


async def end(engine: BotEngine, turn: Turn, step: End) -> Outcome:
    turn.session.update(waiting=None, flow_id=None)
    return "stop", None


STEP_TYPES: list[StepType[Any]] = [
    StepType(SendText, send_text),
    StepType(SendImage, send_image),
    StepType(Ask, ask),
    StepType(Branch, branch),
    StepType(SetData, set_data),
    StepType(Webhook, webhook),
    StepType(Handoff, handoff),
    StepType(Goto, goto),
    StepType(End, end),
]

BUILT_IN = StepTypes(STEP_TYPES)
"""The built-in step types alone: what an engine or a save uses when given no list."""
