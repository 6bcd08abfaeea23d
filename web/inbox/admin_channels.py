"""The JSON behind `/app/admin/channels`: connect accounts from the web app.

The same records as `/api/v1/channels`, behind the session instead of an API token, and
for admins only, reads included: a channel's settings are the workspace owner's business
(agents keep the inbox's `GET /app/api/channels`: id, name and type). Answers are the REST
API's own (`channel_out`, so secrets never leave), plus the URLs to paste into the platform.
The same page lists the channels' dead letters (`kith.core.dead_letters`) and replays them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kith.core.channel_records import (
    get_channel,
    list_channels,
    rotate_channel_token,
    update_channel,
)
from kith.core.channels import ChannelType
from kith.core.context import Core
from kith.core.dead_letters import do_replay_dead_letter, list_dead_letters
from kith.core.models import Channel
from kith.web.api import channels as rest
from kith.web.api.schemas import ChannelCreate, ChannelPatch
from kith.web.inbox.admin import AdminDep
from kith.web.inbox.deps import CoreDep

router = APIRouter(prefix="/app/api", include_in_schema=False)


def public_base(core: Core, request: Request) -> str:
    """Where platforms reach Kith: `KITH_PUBLIC_URL`, else the address this page came from."""
    return (core.settings.public_url or str(request.base_url)).rstrip("/")


def endpoints(core: Core, type_name: str, channel_id: str, base: str) -> list[dict[str, str]]:
    """The URLs to paste into the platform (`ChannelType.endpoints`)."""
    channel_type = core.channels.get(type_name)
    paths = channel_type.endpoint_paths(channel_id) if channel_type else []
    return [{"key": key, "url": base + path} for key, path in paths]


def type_out(channel_type: ChannelType) -> dict[str, Any]:
    """A type's config as JSON Schema, for the browser to build its form from. `generated`
    names the secrets Kith makes up when left blank (shown once, after creation)."""
    model = channel_type.config_model
    return {
        "name": channel_type.name,
        "description": channel_type.description,
        "schema": model.model_json_schema(),
        "secret_fields": sorted(channel_type.secret_fields),
        "generated": sorted(k for k, f in model.model_fields.items() if f.default_factory),
        "endpoints": [key for key, _ in channel_type.endpoints],
        "translations": channel_type.translations,
    }


def admin_out(core: Core, channel: Channel, base: str) -> dict[str, Any]:
    answer = rest.channel_out(core, channel).model_dump(mode="json")
    return {**answer, "endpoints": endpoints(core, channel.type, channel.id, base)}


@router.get("/channel-types")
async def channel_types(agent: AdminDep, core: CoreDep) -> dict[str, Any]:
    return {"items": [type_out(t) for t in core.channels]}


@router.get("/admin/channels")
async def admin_channels(agent: AdminDep, core: CoreDep, request: Request) -> dict[str, Any]:
    found = await list_channels(core, agent.user.workspace_id, strict=False)
    base = public_base(core, request)
    return {"items": [admin_out(core, c, base) for c in found]}


@router.get("/admin/channels/{channel_id}")
async def admin_channel(
    channel_id: str, agent: AdminDep, core: CoreDep, request: Request
) -> dict[str, Any]:
    channel = await get_channel(core, agent.user.workspace_id, channel_id, strict=False)
    return admin_out(core, channel, public_base(core, request))


@router.post("/admin/channels", status_code=201)
async def add_channel(
    body: ChannelCreate, agent: AdminDep, core: CoreDep, request: Request
) -> dict[str, Any]:
    """The REST API's creation (the type's `on_created` hook included): the token and the
    generated secrets are in this answer and nowhere else, ever again."""
    created = await rest.create(body, core, agent.user.workspace_id)
    base = public_base(core, request)
    return {
        **created.model_dump(mode="json"),
        "endpoints": endpoints(core, created.type, created.id, base),
    }


@router.patch("/admin/channels/{channel_id}")
async def change_channel(
    channel_id: str, body: ChannelPatch, agent: AdminDep, core: CoreDep, request: Request
) -> dict[str, Any]:
    """Rename, reconfigure (secrets left out keep their value) or enable/disable."""
    channel = await update_channel(
        core,
        agent.user.workspace_id,
        channel_id,
        name=body.name,
        config=body.config,
        enabled=body.enabled,
    )
    return admin_out(core, channel, public_base(core, request))


@router.post("/admin/channels/{channel_id}/token")
async def new_channel_token(channel_id: str, agent: AdminDep, core: CoreDep) -> dict[str, str]:
    """A new inbound token, in this answer only; the channel's old token stops at once."""
    return {"token": await rotate_channel_token(core, agent.user.workspace_id, channel_id)}


@router.get("/admin/dead-letters")
async def admin_dead_letters(agent: AdminDep, core: CoreDep) -> dict[str, Any]:
    found = await list_dead_letters(core, agent.user.workspace_id)
    return {"items": [d.model_dump(mode="json") for d in found]}


@router.post("/admin/dead-letters/{dead_letter_id}/replay")
async def replay_dead_letter(dead_letter_id: str, agent: AdminDep, core: CoreDep) -> dict[str, Any]:
    """Parse and ingest a kept payload again (`replayed_at` set when it worked)."""
    replayed = await do_replay_dead_letter(core, agent.user.workspace_id, dead_letter_id)
    return replayed.model_dump(mode="json")
