"""Checks on save: what would fail later is refused now, naming the step and the field
(`steps.2.message.text.en`). Branches must point at steps that exist, and a branch may only
jump back over a `wait` (a loop without one would run without end)."""

from __future__ import annotations

from kith.broadcasts import templates
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.segments.filters import parse
from kith.segments.records import installed_fields
from kith.sequences.models import BranchStep, SendStep, SequenceIn, WaitStep


async def check(core: Core, workspace_id: str, body: SequenceIn) -> SequenceIn:
    ids = [step.id for step in body.steps]
    for n, step_id in enumerate(ids):
        if step_id in ids[:n]:
            raise InvalidInput(f"step id {step_id!r} is used twice", field=f"steps.{n}.id")
    for n, channel_type in enumerate(body.channels):
        if core.channels.get(channel_type) is None:
            raise InvalidInput(f"unknown channel type {channel_type!r}", field=f"channels.{n}")
    for n, step in enumerate(body.steps):
        where = f"steps.{n}"
        if isinstance(step, SendStep):
            for language, text in step.message.text.items():
                templates.check(text, f"{where}.message.text.{language}")
        if isinstance(step, BranchStep):
            _check_branch(core, body, n, step, where)
    return body


def _check_branch(core: Core, body: SequenceIn, n: int, step: BranchStep, where: str) -> None:
    ids = [s.id for s in body.steps]
    for name, target in (("then", step.then), ("else", step.otherwise)):
        if target is None:
            continue
        if target not in ids:
            raise InvalidInput(f"no step {target!r} to go to", field=f"{where}.{name}")
        at = ids.index(target)
        if at <= n and not any(isinstance(s, WaitStep) for s in body.steps[at : n + 1]):
            raise InvalidInput(
                f"going back to {target!r} loops without a wait", field=f"{where}.{name}"
            )
    if step.filter is not None:
        try:
            parse(step.filter, installed_fields(core))
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=f"{where}.{exc.field or 'filter'}") from None
