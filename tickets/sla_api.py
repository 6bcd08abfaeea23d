"""`/api/v1/sla`: business-hour calendars, SLA policies and the "% SLA met" report.

API tokens speak for the whole workspace. Routes parse, call the store or an action and
answer. Saving a policy or replacing a calendar queues the `sla-recompute` job that retargets
the open tickets it concerns; the answer names it (`recompute_job_id`, followed on
`/api/v1/jobs/{id}`; null when no open ticket is concerned).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from kith.core.errors import InvalidInput
from kith.core.jobs import Job
from kith.tickets import sla_store
from kith.tickets.sla_models import CalendarIn, PolicyIn, SlaCalendar, SlaPolicy
from kith.tickets.sla_recompute import do_delete_policy, do_save_calendar, do_save_policy
from kith.tickets.sla_report import SlaReport, sla_report
from kith.web.api.deps import CoreDep, WorkspaceDep

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])


class SavedCalendar(SlaCalendar):
    recompute_job_id: str | None = None


class SavedPolicy(SlaPolicy):
    recompute_job_id: str | None = None


def _job_id(job: Job | None) -> str | None:
    return job.id if job else None


@router.get("/calendars", response_model=list[SlaCalendar])
async def list_calendars(core: CoreDep, workspace_id: WorkspaceDep) -> list[SlaCalendar]:
    return await sla_store.list_calendars(core, workspace_id)


@router.post("/calendars", status_code=201, response_model=SavedCalendar)
async def create_calendar(
    body: CalendarIn, core: CoreDep, workspace_id: WorkspaceDep
) -> SavedCalendar:
    calendar, job = await do_save_calendar(core, workspace_id, body)
    return SavedCalendar(**calendar.model_dump(), recompute_job_id=_job_id(job))


@router.get("/calendars/{calendar_id}", response_model=SlaCalendar)
async def get_calendar(calendar_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> SlaCalendar:
    return await sla_store.get_calendar(core, workspace_id, calendar_id)


@router.put("/calendars/{calendar_id}", response_model=SavedCalendar)
async def replace_calendar(
    calendar_id: str, body: CalendarIn, core: CoreDep, workspace_id: WorkspaceDep
) -> SavedCalendar:
    calendar, job = await do_save_calendar(core, workspace_id, body, calendar_id)
    return SavedCalendar(**calendar.model_dump(), recompute_job_id=_job_id(job))


@router.delete("/calendars/{calendar_id}", status_code=204)
async def delete_calendar(calendar_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> Response:
    await sla_store.delete_calendar(core, workspace_id, calendar_id)
    return Response(status_code=204)


@router.get("/policies", response_model=list[SlaPolicy])
async def list_policies(core: CoreDep, workspace_id: WorkspaceDep) -> list[SlaPolicy]:
    return await sla_store.list_policies(core, workspace_id)


@router.post("/policies", status_code=201, response_model=SavedPolicy)
async def create_policy(body: PolicyIn, core: CoreDep, workspace_id: WorkspaceDep) -> SavedPolicy:
    policy, job = await do_save_policy(core, workspace_id, body)
    return SavedPolicy(**policy.model_dump(), recompute_job_id=_job_id(job))


@router.get("/policies/{policy_id}", response_model=SlaPolicy)
async def get_policy(policy_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> SlaPolicy:
    return await sla_store.get_policy(core, workspace_id, policy_id)


@router.put("/policies/{policy_id}", response_model=SavedPolicy)
async def replace_policy(
    policy_id: str, body: PolicyIn, core: CoreDep, workspace_id: WorkspaceDep
) -> SavedPolicy:
    policy, job = await do_save_policy(core, workspace_id, body, policy_id)
    return SavedPolicy(**policy.model_dump(), recompute_job_id=_job_id(job))


@router.delete("/policies/{policy_id}", status_code=204)
async def delete_policy(policy_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> Response:
    await do_delete_policy(core, workspace_id, policy_id)
    return Response(status_code=204)


@router.get("/report", response_model=SlaReport)
async def report(
    core: CoreDep,
    workspace_id: WorkspaceDep,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
) -> SlaReport:
    """Tickets opened in [from, to): % of targets met per policy, team and agent."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput(
            "give a time zone (such as Z)", field="from" if not start.tzinfo else "to"
        )
    if end <= start:
        raise InvalidInput("to must be after from", field="to")
    return await sla_report(core, workspace_id, start, end)
