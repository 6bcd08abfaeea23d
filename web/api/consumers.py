"""`/api/v1/consumers`: how far behind each event consumer is, and the events it parked.

A consumer that keeps failing on one event parks it rather than blocking the rest; once
the cause is fixed, an admin retries it here.
"""

from __future__ import annotations

from fastapi import APIRouter

from kith.core.consumers import ConsumerLag, ParkedEvent, lag, parked, retry_parked
from kith.core.errors import NotFound
from kith.web.api.deps import CoreDep, WorkspaceDep

router = APIRouter(tags=["operations"])


@router.get("/consumers", response_model=list[ConsumerLag])
async def list_(core: CoreDep, workspace_id: WorkspaceDep) -> list[ConsumerLag]:
    """Per consumer: events still to handle, the oldest one's time, and events parked."""
    return await lag(core, workspace_id)


def _known(core: CoreDep, name: str) -> None:
    if core.consumers.get(name) is None:
        raise NotFound("no such consumer", field="consumer")


@router.get("/consumers/{name}/parked", response_model=list[ParkedEvent])
async def list_parked(name: str, core: CoreDep, workspace_id: WorkspaceDep) -> list[ParkedEvent]:
    _known(core, name)
    return await parked(core, workspace_id, name)


@router.post("/consumers/{name}/parked/{event_id}/retry", status_code=202)
async def retry(
    name: str, event_id: str, core: CoreDep, workspace_id: WorkspaceDep
) -> dict[str, bool]:
    """Hand a parked event back to its consumer."""
    _known(core, name)
    if not await retry_parked(core, workspace_id, name, event_id):
        raise NotFound("no such parked event", field="event_id")
    return {"queued": True}
