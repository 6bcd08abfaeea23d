"""A sequence's figures, counted from its enrolments and step runs when asked.

Enrolments give the funnel (enrolled, active, completed, stopped by reason, skipped by
reason); step runs give each step's outcomes, and the runs whose message was delivered, or
after which the customer replied, clicked or converted (the runner and the consumers set
those times on the run). Runs are grouped by version and step, so that a step renamed or
changed in a later version keeps its own figures and a reused id adds nothing to them.
Every count is a `$match` on indexed fields and a `$group`, which both engines run; nothing
is kept as a counter, so a crash can leave no figure wrong. The daily series (UTC days)
feeds the page's chart over time.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field

from kith.core.context import Core
from kith.sequences.models import (
    EnrolmentState,
    RunOutcome,
    SequenceStats,
    SequenceVersion,
    Step,
    StepStats,
)
from kith.sequences.store import enrolments, runs, versions

DAYS = 30
MARKS = ("delivered", "replied", "clicked", "converted")
MEASURES = ("sent", "delivered", "failed", "replied", "clicked", "converted", "skipped")
_ACTS = frozenset({"skipped"})  # a step acting on the customer: skipped when they are gone
# What a step's row can count, by step type (Mautic's campaign report gives a delay or a
# decision no message figures): a send every measure; a goal its conversions; a webhook its
# failed calls; a step acting on the customer or the inbox its skips (customer erased, no
# conversation, team gone). A wait, a branch or an end counts nothing: a zero there would say
# nothing, so the funnel shows none.
MEASURED: dict[str, frozenset[str]] = {
    "send": frozenset(MEASURES),
    "goal": frozenset({"converted"}),
    "webhook": frozenset({"failed"}),
    "tag": _ACTS,
    "untag": _ACTS,
    "set_attribute": _ACTS,
    "notify_team": _ACTS,
}


class DayPoint(BaseModel):
    day: date
    enrolled: int = 0
    sent: int = 0
    replied: int = 0
    converted: int = 0


class EarlierStep(StepStats):
    """A step as earlier versions had it, which the current one no longer has as it was
    (renamed, removed or changed): its figures are kept apart, never added to a step that
    merely took its id."""

    step_id: str
    type: str
    versions: list[int]


class CurrentStep(StepStats):
    """A step of the current version, at its place in the sequence (zeros where nobody has
    been yet): Mautic shows a campaign whole, not only the steps someone reached."""

    step_id: str
    type: str


class SequenceStatsOut(SequenceStats):
    # `steps`: every step of the current version, in step order, each counted over the
    # versions where it was the same step (same id, type and settings); a mapping, as it has
    # always been. `ordered`: the same figures as a list in step order, for clients that do
    # not keep a JSON object's order. `earlier`: every other step that ran.
    ordered: list[CurrentStep] = Field(default_factory=list)
    earlier: list[EarlierStep] = Field(default_factory=list)
    daily: list[DayPoint] = Field(default_factory=list)  # last 30 UTC days, today last


async def _grouped(collection: Any, match: dict[str, Any], key: Any) -> list[dict[str, Any]]:
    pipeline = [{"$match": match}, {"$group": {"_id": key, "n": {"$sum": 1}}}]
    return [row async for row in await collection.aggregate(pipeline)]


async def sequence_stats(core: Core, sequence_id: str) -> SequenceStatsOut:
    out = SequenceStatsOut()
    by_state = await _grouped(
        enrolments(core), {"sequence_id": sequence_id}, {"state": "$state", "reason": "$reason"}
    )
    for row in by_state:
        state, reason, n = row["_id"].get("state"), row["_id"].get("reason"), row["n"]
        if state == EnrolmentState.skipped:
            out.skipped[reason or "unknown"] = out.skipped.get(reason or "unknown", 0) + n
            continue
        out.enrolled += n
        if state == EnrolmentState.active:
            out.active += n
        elif state == EnrolmentState.completed:
            out.completed += n
        elif state == EnrolmentState.stopped:
            out.stopped[reason or "unknown"] = out.stopped.get(reason or "unknown", 0) + n
    out.ordered, out.earlier = await _steps(core, sequence_id)
    out.steps = {
        step.step_id: StepStats(**step.model_dump(exclude={"step_id", "type"}))
        for step in out.ordered
    }
    out.daily = await _daily(core, sequence_id)
    return out


StepKey = tuple[str, str]  # (step id, what the step says): one step across versions


async def _identities(core: Core, sequence_id: str) -> tuple[dict[int, dict[str, Step]], int]:
    """Each version's steps by id, and the latest version."""
    found: dict[int, dict[str, Step]] = {}
    async for doc in versions(core).find({"sequence_id": sequence_id}):
        version = SequenceVersion.from_doc(doc)
        found[version.version] = {step.id: step for step in version.steps}
    return found, max(found, default=0)


def _key(step_id: str, step: Step | None) -> StepKey:
    said = json.dumps(step.model_dump(mode="json"), sort_keys=True) if step else ""
    return step_id, said


async def _steps(core: Core, sequence_id: str) -> tuple[list[CurrentStep], list[EarlierStep]]:
    """Runs grouped by (version, step), then by step key: a step kept unchanged through
    versions is one row, a renamed or changed one stays apart (under `earlier`). Every step
    of the current version has its row, in step order, whether or not it ran."""
    by_version, latest = await _identities(core, sequence_id)
    figures: dict[StepKey, StepStats] = {}
    seen: dict[StepKey, tuple[str, set[int]]] = {}

    def figures_of(row: dict[str, Any]) -> StepStats:
        version, step_id = row["_id"].get("version"), row["_id"]["step"]
        step = by_version.get(version, {}).get(step_id)
        key = _key(step_id, step)
        seen.setdefault(key, (step.type if step else "?", set()))[1].add(version)
        return figures.setdefault(key, StepStats())

    key = {"version": "$version", "step": "$step_id", "outcome": "$outcome", "reason": "$reason"}
    for row in await _grouped(runs(core), {"sequence_id": sequence_id}, key):
        step = figures_of(row)
        outcome, reason, n = row["_id"].get("outcome"), row["_id"].get("reason"), row["n"]
        if outcome == RunOutcome.sent:
            step.sent += n
        elif outcome == RunOutcome.failed:
            step.failed += n
        elif outcome == RunOutcome.skipped:
            step.skipped[reason or "unknown"] = step.skipped.get(reason or "unknown", 0) + n
    for mark in MARKS:
        match = {"sequence_id": sequence_id, f"{mark}_at": {"$ne": None}}
        for row in await _grouped(runs(core), match, {"version": "$version", "step": "$step_id"}):
            step = figures_of(row)
            setattr(step, mark, getattr(step, mark) + row["n"])
    current = by_version.get(latest, {})
    steps = [
        CurrentStep(step_id=i, type=s.type, **figures.get(_key(i, s), StepStats()).model_dump())
        for i, s in current.items()
    ]
    kept = {_key(i, s) for i, s in current.items()}
    earlier = [
        EarlierStep(step_id=k[0], type=seen[k][0], versions=sorted(seen[k][1]), **f.model_dump())
        for k, f in figures.items()
        if k not in kept
    ]
    earlier.sort(key=lambda e: (e.versions[0], _position(by_version, e)))
    return steps, earlier


def _position(by_version: dict[int, dict[str, Step]], step: EarlierStep) -> int:
    ids = list(by_version.get(step.versions[0], {}))
    return ids.index(step.step_id) if step.step_id in ids else len(ids)


def _day_key(field: str) -> dict[str, Any]:
    return {
        "y": {"$year": f"${field}"},
        "m": {"$month": f"${field}"},
        "d": {"$dayOfMonth": f"${field}"},
    }


async def _daily(core: Core, sequence_id: str) -> list[DayPoint]:
    today = core.clock.now().date()
    first = today - timedelta(days=DAYS - 1)
    since = datetime.combine(first, time(), UTC)
    points = {
        first + timedelta(days=n): DayPoint(day=first + timedelta(days=n)) for n in range(DAYS)
    }
    series: list[tuple[str, Any, dict[str, Any], str]] = [
        (
            "enrolled",
            enrolments(core),
            {"state": {"$ne": EnrolmentState.skipped.value}},
            "enrolled_at",
        ),
        ("sent", runs(core), {"outcome": RunOutcome.sent.value}, "at"),
        ("replied", enrolments(core), {}, "replied_at"),
        ("converted", enrolments(core), {}, "converted_at"),
    ]
    for name, collection, extra, field in series:
        match = {"sequence_id": sequence_id, **extra, field: {"$gte": since}}
        for row in await _grouped(collection, match, _day_key(field)):
            point = points.get(date(row["_id"]["y"], row["_id"]["m"], row["_id"]["d"]))
            if point is not None:
                setattr(point, name, row["n"])
    return list(points.values())
