"""Checks on save: what would fail later is refused now, naming the step and the field
(`steps.2.message.text.en`), with a `reason` and its values (`limits`) for the builder to
say it in its page's language. Branches must point at steps that exist, and a branch may only
jump back over a `wait` (a loop without one would run without end). A webhook's destination
goes through the egress guard's check now (resolved, every address public or allowed by
`KITH_EGRESS_ALLOW`); the guard checks it again at every call, so a name that changes its
answer later gains nothing. Segments, teams, communities and triggers named must exist in the
workspace; a goal "entering a segment" names its segment (none chosen is refused, as Braze and
Mautic refuse a conversion goal left blank: it could never be reached). A branch on "replied"
in a sequence that stops when the customer replies is refused too: the reply that would take
it ends the enrolment first (`stopping`), so its `then` could never run. Every fault is
refused at once, in the order of the definition (the first is `field`), so that the builder
marks them all in one save. A definition the model refuses (a wait of no length, a step id
of capitals) is refused with the texts of its well-formed send steps checked too (`read`):
an unknown variable is not left for the next save."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import Body
from pydantic import TypeAdapter, ValidationError

from kith.broadcasts import templates
from kith.communities.store import COMMUNITIES
from kith.core.context import Core
from kith.core.egress import checked_url
from kith.core.errors import InvalidInput, KithError, raise_all, validated
from kith.segments.filters import parse
from kith.segments.records import SEGMENTS, installed_fields
from kith.sequences.models import (
    BranchStep,
    NotifyTeamStep,
    SendStep,
    SequenceIn,
    Since,
    Step,
    TriggerKind,
    WaitStep,
    WebhookStep,
)
from kith.web.api.sent import taken_whole

# A definition taken as sent, shown in the OpenAPI document as `SequenceIn`: `read` checks it
# whole, so that a refusal names the fields the model refuses and the texts it cannot check.
SentSequence = Annotated[dict[str, Any], taken_whole(SequenceIn), Body()]
_STEP: TypeAdapter[Step] = TypeAdapter(Step)


async def read(sent: dict[str, Any]) -> SequenceIn:
    """The definition as the model takes it; refused, when the model refuses it, with the
    refusals of each step that is well-formed on its own beside the model's (a send step's
    texts, as `check` checks them): a step the model refused is not read further."""
    definition, errors = validated(SequenceIn, sent)
    if definition is not None:
        return definition
    steps = sent.get("steps")
    for n, given in enumerate(steps if isinstance(steps, list) else []):
        try:
            step = _STEP.validate_python(given)
        except ValidationError:
            continue  # refused above, at its own fields
        if isinstance(step, SendStep):
            errors += await _send_refusals(step, f"steps.{n}")
    raise_all(errors)
    raise AssertionError("a refused definition names a field")  # pragma: no cover


async def _send_refusals(step: SendStep, where: str) -> list[KithError]:
    """A send step's message as given (blank texts, links) and its templates."""
    errors = step.message.refusals(f"{where}.message")
    for language, text in step.message.text.items():
        await _collect(errors, templates.check_async(text, f"{where}.message.text.{language}"))
    return errors


async def check(core: Core, workspace_id: str, body: SequenceIn) -> SequenceIn:
    """The definition, or every refusal it earns in one answer."""
    errors = _twice([step.id for step in body.steps])
    try:
        core.channels.check_names(body.channels)
    except InvalidInput as exc:
        errors += _each(exc)
    for n, step in enumerate(body.steps):
        where = f"steps.{n}"
        if isinstance(step, SendStep):
            errors += await _send_refusals(step, where)
        if isinstance(step, BranchStep):
            errors += _check_branch(core, body, n, step, where)
        if isinstance(step, WebhookStep):
            await _collect(errors, checked_url(core, step.url, f"{where}.url"))
        if isinstance(step, NotifyTeamStep) and step.team_id is not None:
            team = {"_id": step.team_id, "workspace_id": workspace_id}
            if await core.store.teams.find_one(team, {"_id": 1}) is None:
                errors.append(
                    InvalidInput(
                        "no such team in this workspace", field=f"{where}.team_id", reason="no_team"
                    )
                )
    if body.goal is not None and body.goal.segment_id is not None:
        await _collect(errors, _check_goal_segment(core, workspace_id, body.goal.segment_id))
    for n, trigger in enumerate(body.triggers):
        where = f"triggers.{n}.value"
        if trigger.kind != TriggerKind.bot and not trigger.value:
            errors.append(
                InvalidInput(
                    f"a {trigger.kind.value} trigger needs a value",
                    field=where,
                    reason="trigger_value",
                    limits={"kind": trigger.kind.value},
                )
            )
        elif trigger.kind == TriggerKind.segment_entered and trigger.value:
            await _collect(errors, _check_segment(core, workspace_id, trigger.value, where))
        elif trigger.kind == TriggerKind.community_joined and trigger.value:
            await _collect(errors, _check_community(core, workspace_id, trigger.value, where))
        elif trigger.kind == TriggerKind.referrals_reached and not (
            (trigger.value or "").isdigit() and int(trigger.value or 0) > 0
        ):
            errors.append(
                InvalidInput(
                    "a number of referrals, 1 or more", field=where, reason="referrals_count"
                )
            )
    raise_all(errors)
    return body


def _twice(ids: list[str]) -> list[KithError]:
    return [
        InvalidInput(
            f"step id {step_id!r} is used twice",
            field=f"steps.{n}.id",
            reason="step_id_twice",
            limits={"step": step_id},
        )
        for n, step_id in enumerate(ids)
        if step_id in ids[:n]
    ]


async def _collect(errors: list[KithError], check: Awaitable[object]) -> None:
    """Run one check that raises, keeping its refusals (each of them, when it joined several)
    instead of stopping at them."""
    try:
        await check
    except InvalidInput as exc:
        errors += _each(exc)


def _each(error: KithError) -> list[KithError]:
    """A refusal and those it carries, side by side (to be joined again with the others)."""
    others, error.also = error.also, ()
    return [error, *others]


async def _check_segment(core: Core, workspace_id: str, segment_id: str, field: str) -> None:
    found = await core.store.collection(SEGMENTS).find_one(
        {"_id": segment_id, "workspace_id": workspace_id}, {"_id": 1}
    )
    if found is None:
        raise InvalidInput("no such segment in this workspace", field=field, reason="no_segment")


async def _check_goal_segment(core: Core, workspace_id: str, segment_id: str) -> None:
    """The goal's segment, said as the goal's: none chosen, or one no longer there (deleted
    before deleting refused a segment a sequence uses), each with what to do instead."""
    field = "goal.segment_id"
    if not segment_id.strip():
        raise InvalidInput(
            "choose the segment whose entry is the goal, or no goal",
            field=field,
            reason="goal_segment_missing",
        )
    try:
        await _check_segment(core, workspace_id, segment_id, field)
    except InvalidInput:
        raise InvalidInput(
            "the goal's segment is not in this workspace (deleted?): choose another, or no goal",
            field=field,
            reason="goal_segment_gone",
        ) from None


async def _check_community(core: Core, workspace_id: str, community_id: str, field: str) -> None:
    found = await core.store.collection(COMMUNITIES).find_one(
        {"_id": community_id, "workspace_id": workspace_id}, {"_id": 1}
    )
    if found is None:
        raise InvalidInput(
            "no such community in this workspace", field=field, reason="no_community"
        )


def _check_branch(
    core: Core, body: SequenceIn, n: int, step: BranchStep, where: str
) -> list[KithError]:
    ids = [s.id for s in body.steps]
    errors: list[KithError] = []
    if step.since == Since.replied and body.stop_on_reply:
        # A reply stops the enrolment (and marks it replied) in one go, before any branch
        # could read it: "then" is unreachable, and the marketer meant something else.
        errors.append(
            InvalidInput(
                "this branch can never be taken: the sequence stops a customer's enrolment "
                "when they reply (stop_on_reply); turn that off, or branch on clicked or "
                "converted instead",
                field=f"{where}.since",
                reason="branch_on_reply_stops",
            )
        )
    for name, target in (("then", step.then), ("else", step.otherwise)):
        if target is None:
            continue
        if target not in ids:
            errors.append(
                InvalidInput(
                    f"no step {target!r} to go to",
                    field=f"{where}.{name}",
                    reason="no_step",
                    limits={"step": target},
                )
            )
            continue
        at = ids.index(target)
        if at <= n and not any(isinstance(s, WaitStep) for s in body.steps[at : n + 1]):
            errors.append(
                InvalidInput(
                    f"going back to {target!r} loops without a wait",
                    field=f"{where}.{name}",
                    reason="loop_without_wait",
                    limits={"step": target},
                )
            )
    if step.filter is not None:
        try:
            parse(step.filter, installed_fields(core))
        except InvalidInput as exc:  # each of the filter's faults, named within the step
            errors += [
                InvalidInput(
                    e.message,
                    field=f"{where}.{e.field or 'filter'}",
                    reason=e.reason,
                    limits=e.limits,
                )
                for e in _each(exc)
            ]
    return errors
