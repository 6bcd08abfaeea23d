"""`/api/v1/courtesy`: a workspace's quiet hours, daily cap, time zone and consent rule.

`PUT` replaces the settings and so takes every field (one left out is refused, never silently
reset to its default); `PATCH` changes only the fields it names, as Kith's other PATCHes do."""

from __future__ import annotations

from fastapi import APIRouter

from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.courtesy.settings import CourtesySettings, load_settings, save_settings
from kith.web.api.deps import CoreDep, WorkspaceDep

router = APIRouter(prefix="/api/v1/courtesy", tags=["courtesy"])


def _check_channel_types(core: Core, settings: CourtesySettings) -> None:
    for n, channel_type in enumerate(settings.require_granted):
        if core.channels.get(channel_type) is None:
            raise InvalidInput(
                f"unknown channel type; one of: {', '.join(core.channels.names())}",
                field=f"require_granted.{n}",
            )


@router.get("", response_model=CourtesySettings)
async def read(core: CoreDep, workspace_id: WorkspaceDep) -> CourtesySettings:
    return await load_settings(core, workspace_id)


@router.put("", response_model=CourtesySettings)
async def replace(
    body: CourtesySettings, core: CoreDep, workspace_id: WorkspaceDep
) -> CourtesySettings:
    """Replace the settings: every field is required (use PATCH to change some)."""
    missing = [name for name in CourtesySettings.model_fields if name not in body.model_fields_set]
    if missing:
        raise InvalidInput(
            "required when replacing the settings (PATCH changes some)", field=missing[0]
        )
    _check_channel_types(core, body)
    await save_settings(core, workspace_id, body)
    return body


@router.patch("", response_model=CourtesySettings)
async def change(
    body: CourtesySettings, core: CoreDep, workspace_id: WorkspaceDep
) -> CourtesySettings:
    """Change the fields given; the others keep their stored values."""
    _check_channel_types(core, body)
    stored = await load_settings(core, workspace_id)
    given = {name: getattr(body, name) for name in body.model_fields_set}
    changed = stored.model_copy(update=given)
    await save_settings(core, workspace_id, changed)
    return changed
