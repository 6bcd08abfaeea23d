"""`/api/v1/courtesy`: a workspace's quiet hours, daily cap, time zone and consent rule."""

from __future__ import annotations

from fastapi import APIRouter

from kith.courtesy.settings import CourtesySettings, load_settings, save_settings
from kith.web.api.deps import CoreDep, WorkspaceDep

router = APIRouter(prefix="/api/v1/courtesy", tags=["courtesy"])


@router.get("", response_model=CourtesySettings)
async def read(core: CoreDep, workspace_id: WorkspaceDep) -> CourtesySettings:
    return await load_settings(core, workspace_id)


@router.put("", response_model=CourtesySettings)
async def replace(
    body: CourtesySettings, core: CoreDep, workspace_id: WorkspaceDep
) -> CourtesySettings:
    """Replace the settings; fields left out take their defaults."""
    await save_settings(core, workspace_id, body)
    return body
