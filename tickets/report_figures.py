"""The ticket reports' figures for one reader and one range: satisfaction and "% SLA met"
with the names they are shown by, read once and shared by the page and its CSV, so that the
file always holds what the page shows.

Both are read through the reader's scope: an agent sees their teams' tickets only (the
tickets' own rule, `kith.tickets.store.visible`).
"""

from __future__ import annotations

from dataclasses import dataclass

from kith.core.context import Core
from kith.core.permissions import scope_with_teams
from kith.core.sessions import Session
from kith.tickets.csat_report import Report, csat_report, names_of
from kith.tickets.report_range import ReportRange
from kith.tickets.sla_models import Metric
from kith.tickets.sla_report import Met, ReportRow, sla_report
from kith.tickets.sla_store import list_policies


@dataclass(frozen=True)
class SlaLine:
    """A row of the SLA report with the name it is shown by (None: no team, unassigned or a
    policy since deleted; the template words each)."""

    name: str | None
    row: ReportRow


@dataclass(frozen=True)
class SlaView:
    overall: Met
    metrics: dict[Metric, Met]
    by_policy: list[SlaLine]
    by_team: list[SlaLine]
    by_agent: list[SlaLine]


@dataclass(frozen=True)
class Figures:
    csat: Report
    sla: SlaView


def _sum(mets: list[Met]) -> Met:
    met, missed = sum(m.met for m in mets), sum(m.missed for m in mets)
    total = met + missed
    return Met(met=met, missed=missed, percent=round(100 * met / total, 1) if total else None)


async def sla_view(core: Core, session: Session, period: ReportRange) -> SlaView:
    """The workspace's "% SLA met" with names: policies from the SLA store, teams and agents
    as the satisfaction report names them. Every ticket counted has a policy, so the policy
    rows add up to the whole."""
    workspace_id = session.user.workspace_id
    scope = scope_with_teams(session.user, session.teams)
    report = await sla_report(core, workspace_id, period.start, period.end, scope)
    policies = {p.id: p.name for p in await list_policies(core, workspace_id)}
    names = await names_of(
        core,
        workspace_id,
        {r.id for r in report.by_agent},
        {r.id for r in report.by_team},
    )
    rows = report.by_policy
    return SlaView(
        overall=_sum([r.overall for r in rows]),
        metrics={m: _sum([r.metrics[m] for r in rows]) for m in Metric},
        by_policy=[SlaLine(policies.get(r.id or ""), r) for r in rows],
        by_team=[SlaLine(names.get(r.id or ""), r) for r in report.by_team],
        by_agent=[SlaLine(names.get(r.id or ""), r) for r in report.by_agent],
    )


async def csat_view(core: Core, session: Session, period: ReportRange) -> Report:
    """Satisfaction over the tickets solved in the period that this reader may see."""
    scope = scope_with_teams(session.user, session.teams)
    return await csat_report(core, session.user.workspace_id, scope, period.start, period.end)


async def figures(core: Core, session: Session, period: ReportRange) -> Figures:
    return Figures(
        csat=await csat_view(core, session, period), sla=await sla_view(core, session, period)
    )
