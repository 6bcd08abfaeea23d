"""A sequence's figures, counted from its enrolments and step runs when asked.

Enrolments give the funnel (enrolled, active, completed, stopped by reason, skipped by
reason); step runs give each step's outcomes, and the runs whose message was delivered, or
after which the customer replied, clicked or converted (the runner and the consumers set
those times on the run). Every count is a `$match` on indexed fields and a `$group`, which
both engines run; nothing is kept as a counter, so a crash can leave no figure wrong. The
daily series (UTC days) feeds the page's chart over time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field

from kith.core.context import Core
from kith.sequences.models import EnrolmentState, RunOutcome, SequenceStats, StepStats
from kith.sequences.store import enrolments, runs

DAYS = 30
MARKS = ("delivered", "replied", "clicked", "converted")


class DayPoint(BaseModel):
    day: date
    enrolled: int = 0
    sent: int = 0
    replied: int = 0
    converted: int = 0


class SequenceStatsOut(SequenceStats):
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
    out.steps = await _steps(core, sequence_id)
    out.daily = await _daily(core, sequence_id)
    return out


async def _steps(core: Core, sequence_id: str) -> dict[str, StepStats]:
    steps: dict[str, StepStats] = {}
    key = {"step": "$step_id", "outcome": "$outcome", "reason": "$reason"}
    for row in await _grouped(runs(core), {"sequence_id": sequence_id}, key):
        step = steps.setdefault(row["_id"]["step"], StepStats())
        outcome, reason, n = row["_id"].get("outcome"), row["_id"].get("reason"), row["n"]
        if outcome == RunOutcome.sent:
            step.sent += n
        elif outcome == RunOutcome.failed:
            step.failed += n
        elif outcome == RunOutcome.skipped:
            step.skipped[reason or "unknown"] = step.skipped.get(reason or "unknown", 0) + n
    for mark in MARKS:
        match = {"sequence_id": sequence_id, f"{mark}_at": {"$ne": None}}
        for row in await _grouped(runs(core), match, "$step_id"):
            setattr(steps.setdefault(row["_id"], StepStats()), mark, row["n"])
    return steps


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
