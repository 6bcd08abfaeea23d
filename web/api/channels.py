"""`/api/v1/channels`: connect accounts; secrets are write-only."""

from __future__ import annotations

from fastapi import APIRouter

from kith.core.channel_records import (
    create_channel,
    get_channel,
    list_channels,
    rotate_channel_token,
    update_channel,
)
from kith.core.channels import public_config
from kith.core.context import Core
from kith.core.models import Channel
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.schemas import ChannelCreate, ChannelCreated, ChannelOut, ChannelPatch, Page

router = APIRouter(prefix="/channels", tags=["channels"])


def channel_out(core: Core, channel: Channel) -> ChannelOut:
    channel_type = core.channels.get(channel.type)
    paths = channel_type.endpoint_paths(channel.id) if channel_type else []
    webhooks = [path for _, path in paths if path.startswith("/webhooks/")]
    return ChannelOut(
        id=channel.id,
        type=channel.type,
        name=channel.name,
        config=public_config(core.channels.get(channel.type), channel),
        enabled=channel.enabled,
        created_at=channel.created_at,
        webhook_path=webhooks[0] if webhooks else None,
        poll=channel.poll,
    )


@router.post("", status_code=201, response_model=ChannelCreated)
async def create(body: ChannelCreate, core: CoreDep, workspace_id: WorkspaceDep) -> ChannelCreated:
    channel, token = await create_channel(core, workspace_id, body.type, body.name, body.config)
    channel_type = core.channels.get(channel.type)
    secret_fields = channel_type.secret_fields if channel_type else frozenset()
    generated = {
        k: v for k, v in channel.config.items() if k in secret_fields and k not in body.config
    }
    return ChannelCreated(**channel_out(core, channel).model_dump(), token=token, secrets=generated)


@router.get("", response_model=Page[ChannelOut])
async def list_(core: CoreDep, workspace_id: WorkspaceDep) -> Page[ChannelOut]:
    channels = await list_channels(core, workspace_id, strict=False)
    return Page(items=[channel_out(core, c) for c in channels], next_cursor=None)


@router.get("/{channel_id}", response_model=ChannelOut)
async def get(channel_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> ChannelOut:
    return channel_out(core, await get_channel(core, workspace_id, channel_id, strict=False))


@router.patch("/{channel_id}", response_model=ChannelOut)
async def patch(
    channel_id: str, body: ChannelPatch, core: CoreDep, workspace_id: WorkspaceDep
) -> ChannelOut:
    channel = await update_channel(
        core, workspace_id, channel_id, name=body.name, config=body.config, enabled=body.enabled
    )
    return channel_out(core, channel)


@router.delete("/{channel_id}", response_model=ChannelOut)
async def disable(channel_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> ChannelOut:
    """Disabling keeps the history; the channel stops taking and sending messages."""
    channel = await update_channel(core, workspace_id, channel_id, enabled=False)
    return channel_out(core, channel)


@router.post("/{channel_id}/token")
async def rotate_token(
    channel_id: str, core: CoreDep, workspace_id: WorkspaceDep
) -> dict[str, str]:
    """A new inbound token (shown once) for the API channel's callers; the old one stops."""
    return {"token": await rotate_channel_token(core, workspace_id, channel_id)}
