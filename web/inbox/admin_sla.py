"""The JSON behind `/app/admin/sla`: an admin creates, replaces and deletes SLA policies from
the web app (the page reads them, and the calendars they count in, through `admin_hours`).

The REST API's own routes (`kith.tickets.sla_api`) called behind the session instead of an API
token, for admins only: answers and refusals are the REST API's, every refused field named at
once, so the page marks each at its control. Saving or deleting a policy retargets the open
tickets it concerns (`recompute_job_id`), as `/api/v1/sla/policies` does.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from kith.tickets import sla_api
from kith.tickets.sla_models import PolicyIn
from kith.web.inbox.admin import AdminDep
from kith.web.inbox.deps import CoreDep

router = APIRouter(prefix="/app/api", include_in_schema=False)


@router.post("/sla/policies", status_code=201, response_model=sla_api.SavedPolicy)
async def add_policy(body: PolicyIn, agent: AdminDep, core: CoreDep) -> sla_api.SavedPolicy:
    return await sla_api.create_policy(body, core, agent.user.workspace_id)


@router.put("/sla/policies/{policy_id}", response_model=sla_api.SavedPolicy)
async def replace_policy(
    policy_id: str, body: PolicyIn, agent: AdminDep, core: CoreDep
) -> sla_api.SavedPolicy:
    """The policy's new terms, whole (the page sends back the breach actions it does not edit)."""
    return await sla_api.replace_policy(policy_id, body, core, agent.user.workspace_id)


@router.delete("/sla/policies/{policy_id}", status_code=204)
async def remove_policy(policy_id: str, agent: AdminDep, core: CoreDep) -> Response:
    """Its open tickets fall to their team's policy, else the workspace's default."""
    return await sla_api.delete_policy(policy_id, core, agent.user.workspace_id)
