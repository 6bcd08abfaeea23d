""" "% SLA met" per policy, team and agent: over the tickets opened in a period, how many of
each metric's targets were met and how many were missed (a breach counts as missed at once,
even before the reply or the resolution comes). A duplicate merged into another ticket is
left out: closing it by the merge is no resolution, and the request is counted on its target.

Each grouping is one aggregation over the `(workspace_id, created_at)` index; the counts are
kept on the tickets' clocks (`achieved`, `missed`), so nothing is recomputed from events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from kith.core.context import Core
from kith.core.permissions import Scope
from kith.tickets.sla_models import Metric
from kith.tickets.store import tickets, visible

GROUPS = {"policy": "sla.policy_id", "team": "team_id", "agent": "assignee_id"}


class Met(BaseModel):
    met: int
    missed: int
    percent: float | None  # None: nothing measured yet


class ReportRow(BaseModel):
    id: str | None  # the policy, team or agent (None: no team, unassigned)
    tickets: int
    overall: Met
    metrics: dict[Metric, Met]


class SlaReport(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    by_policy: list[ReportRow]
    by_team: list[ReportRow]
    by_agent: list[ReportRow]


def _met(met: int, missed: int) -> Met:
    total = met + missed
    return Met(met=met, missed=missed, percent=round(100 * met / total, 1) if total else None)


async def _grouped(core: Core, match: dict[str, Any], key: str) -> list[ReportRow]:
    sums: dict[str, Any] = {"tickets": {"$sum": 1}}
    for metric in Metric:
        for count in ("achieved", "missed"):
            sums[f"{metric.value}_{count}"] = {"$sum": f"$sla.metrics.{metric.value}.{count}"}
    pipeline = [{"$match": match}, {"$group": {"_id": f"${key}", **sums}}, {"$sort": {"_id": 1}}]
    rows = []
    async for doc in await tickets(core).aggregate(pipeline):
        metrics = {
            m: _met(int(doc[f"{m.value}_achieved"]), int(doc[f"{m.value}_missed"])) for m in Metric
        }
        overall = _met(
            sum(v.met for v in metrics.values()), sum(v.missed for v in metrics.values())
        )
        rows.append(
            ReportRow(id=doc["_id"], tickets=int(doc["tickets"]), overall=overall, metrics=metrics)
        )
    return rows


async def sla_report(
    core: Core, workspace_id: str, start: datetime, end: datetime, scope: Scope | None = None
) -> SlaReport:
    """The period's figures over the tickets `scope` may read (None: every ticket, for admins
    and API tokens)."""
    match: dict[str, Any] = {
        "workspace_id": workspace_id,
        "created_at": {"$gte": start, "$lt": end},
        "sla.policy_id": {"$ne": None},
        "merged_into": None,  # a duplicate is no request of its own: its target is counted
    }
    if scope is not None and scope.channel_ids is not None:
        match = {"$and": [match, visible(scope)]}
    by = {name: await _grouped(core, match, key) for name, key in GROUPS.items()}
    return SlaReport(
        from_=start, to=end, by_policy=by["policy"], by_team=by["team"], by_agent=by["agent"]
    )
