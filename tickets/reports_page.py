"""The ticket reports page, `/app/tickets/reports`: satisfaction and "% SLA met" over the
last 7, 30 or 90 days, drawn on the server from the same reads the API answers
(`kith.tickets.csat_report`, `kith.tickets.sla_report`), as the communities page draws its
figures. Admins and agents open it; a marketer, who changes no ticket, gets the 403 page.

Both are read through the reader's scope: an agent sees their teams' tickets only (the
tickets' own rule, `kith.tickets.store.visible`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kith.core.context import Core
from kith.core.permissions import WRITERS, scope_with_teams
from kith.core.sessions import Session
from kith.tickets import report_numbers
from kith.tickets.csat_report import Report, csat_report, names_of
from kith.tickets.report_charts import score_bars
from kith.tickets.sla_models import Metric
from kith.tickets.sla_report import Met, ReportRow, sla_report
from kith.tickets.sla_store import list_policies
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.pages import SECURITY_HEADERS, page_context, page_templates

router = APIRouter(include_in_schema=False)
templates = page_templates(Path(__file__).parent / "templates")
PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30


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


def period_days(days: str | None) -> int:
    """The period asked for, else the default: a hand-written `?days=` is no error page."""
    return int(days) if days in {str(n) for n in PERIODS} else DEFAULT_DAYS


def _sum(mets: list[Met]) -> Met:
    met, missed = sum(m.met for m in mets), sum(m.missed for m in mets)
    total = met + missed
    return Met(met=met, missed=missed, percent=round(100 * met / total, 1) if total else None)


async def sla_view(core: Core, session: Session, days: int) -> SlaView:
    """The workspace's "% SLA met" with names: policies from the SLA store, teams and agents
    as the satisfaction report names them. Every ticket counted has a policy, so the policy
    rows add up to the whole."""
    end, workspace_id = core.clock.now(), session.user.workspace_id
    scope = scope_with_teams(session.user, session.teams)
    report = await sla_report(core, workspace_id, end - timedelta(days=days), end, scope)
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


async def csat_view(core: Core, session: Session, days: int) -> Report:
    """Satisfaction over the tickets solved in the period that this reader may see."""
    end = core.clock.now()
    scope = scope_with_teams(session.user, session.teams)
    return await csat_report(
        core, session.user.workspace_id, scope, end - timedelta(days=days), end
    )


async def _figures(core: Core, session: Session, days: int, t: dict[str, str]) -> dict[str, Any]:
    csat = await csat_view(core, session, days)
    return {
        "csat": csat,
        "chart": score_bars(csat.total.distribution, t),
        "sla": await sla_view(core, session, days),
        "start": csat.start.date(),
        "end": csat.end.date(),
    }


def _render(context: dict[str, Any], status: int = 200) -> HTMLResponse:
    html = templates.get_template("reports.html").render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


@router.get("/app/tickets/reports")
async def reports_page(request: Request, core: CoreDep, days: str | None = None) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    context = {
        **await page_context(request, core, session),
        "section": "tickets",
        "allowed": session.user.role in WRITERS,
        "days": period_days(days),
        "periods": PERIODS,
        "metrics": list(Metric),
        "n": report_numbers,
    }
    if not context["allowed"]:
        return _render(context, 403)
    return _render({**context, **await _figures(core, session, context["days"], context["t"])})
