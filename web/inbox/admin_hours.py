"""The JSON behind `/app/admin/hours`: the SLA calendars (business hours and holidays), the
policies that use them, and the courtesy quiet hours, from the web app.

The REST API's own routes (`kith.tickets.sla_api`, `kith.courtesy.api`) called behind the
session instead of an API token, for admins only, reads included: when the SLA clocks run
and when broadcasts hold are the workspace owner's settings, as the channels' are. Answers
and refusals are the REST API's, so the page marks every refused field at once.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from kith.courtesy import api as courtesy_api
from kith.courtesy.settings import CourtesySettings
from kith.tickets import sla_api
from kith.tickets.sla_models import CalendarIn, SlaCalendar, SlaPolicy
from kith.web.inbox.admin import AdminDep
from kith.web.inbox.deps import CoreDep

router = APIRouter(prefix="/app/api", include_in_schema=False)


@router.get("/sla/calendars", response_model=list[SlaCalendar])
async def calendars(agent: AdminDep, core: CoreDep) -> list[SlaCalendar]:
    return await sla_api.list_calendars(core, agent.user.workspace_id)


@router.post("/sla/calendars", status_code=201, response_model=sla_api.SavedCalendar)
async def add_calendar(body: CalendarIn, agent: AdminDep, core: CoreDep) -> sla_api.SavedCalendar:
    return await sla_api.create_calendar(body, core, agent.user.workspace_id)


@router.put("/sla/calendars/{calendar_id}", response_model=sla_api.SavedCalendar)
async def replace_calendar(
    calendar_id: str, body: CalendarIn, agent: AdminDep, core: CoreDep
) -> sla_api.SavedCalendar:
    """The calendar's new terms; the open tickets whose clocks run in it are retargeted."""
    return await sla_api.replace_calendar(calendar_id, body, core, agent.user.workspace_id)


@router.delete("/sla/calendars/{calendar_id}", status_code=204)
async def remove_calendar(calendar_id: str, agent: AdminDep, core: CoreDep) -> Response:
    """Refused (409 at `calendar_id`) while a policy uses it."""
    return await sla_api.delete_calendar(calendar_id, core, agent.user.workspace_id)


@router.get("/sla/policies", response_model=list[SlaPolicy])
async def policies(agent: AdminDep, core: CoreDep) -> list[SlaPolicy]:
    """Read here to show which policies use each calendar."""
    return await sla_api.list_policies(core, agent.user.workspace_id)


@router.get("/courtesy", response_model=CourtesySettings)
async def courtesy(agent: AdminDep, core: CoreDep) -> CourtesySettings:
    return await courtesy_api.read(core, agent.user.workspace_id)


@router.patch("/courtesy", response_model=CourtesySettings)
async def change_courtesy(
    body: CourtesySettings, agent: AdminDep, core: CoreDep
) -> CourtesySettings:
    """The fields given change; the others (the daily cap, consent rules) keep theirs."""
    return await courtesy_api.change(body, core, agent.user.workspace_id)
