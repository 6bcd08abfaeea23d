"""Consent over HTTP: `/api/v1` (API tokens) and `/app/api` (admins and marketers signed in).

- `PUT /api/v1/customers/{id}/consent/{channel_type}` `{"state", "via"?}`
- `GET/PUT /api/v1/consent/settings`: the workspace's stop and start keywords
- `POST /api/v1/consent/link-key`: void every unsubscribe link issued so far
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from kith.consent.actions import do_change_consent
from kith.consent.links import rotate_link_key
from kith.consent.settings import ConsentSettings, load_settings, save_settings
from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.errors import Forbidden, InvalidInput
from kith.core.models import Author, AuthorKind, ConsentState, Role
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.inbox.deps import Agent, AgentDep

router = APIRouter(prefix="/api/v1", tags=["consent"])
app_router = APIRouter(prefix="/app/api", include_in_schema=False)
API_ACTOR = Author(kind=AuthorKind.system, name="api")


class ConsentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: ConsentState
    via: str = Field(default="api", min_length=1, max_length=32, pattern=r"^[a-z_]+$")


class ConsentOut(BaseModel):
    channel_type: str
    state: ConsentState
    at: datetime | None
    via: str | None
    changed: bool = Field(description="False when the state already was the one asked for.")


async def _change(
    core: Core,
    workspace_id: str,
    customer_id: str,
    channel_type: str,
    body: ConsentChange,
    actor: Author,
) -> ConsentOut:
    if core.channels.get(channel_type) is None:
        raise InvalidInput(
            f"unknown channel type; one of: {', '.join(core.channels.names())}",
            field="channel_type",
        )
    customer = await get_customer(core, workspace_id, customer_id)
    changed = await do_change_consent(core, customer, channel_type, body.state, body.via, actor)
    consent = (await get_customer(core, workspace_id, customer_id)).consent.get(channel_type)
    return ConsentOut(
        channel_type=channel_type,
        state=consent.state if consent else ConsentState.unknown,
        at=consent.at if consent else None,
        via=consent.via if consent else None,
        changed=changed,
    )


@router.put("/customers/{customer_id}/consent/{channel_type}", response_model=ConsentOut)
async def change(
    customer_id: str,
    channel_type: str,
    body: ConsentChange,
    core: CoreDep,
    workspace_id: WorkspaceDep,
) -> ConsentOut:
    """Set a customer's marketing consent on one channel type; records `consent.changed`."""
    return await _change(core, workspace_id, customer_id, channel_type, body, API_ACTOR)


@router.get("/consent/settings", response_model=ConsentSettings)
async def read_settings(core: CoreDep, workspace_id: WorkspaceDep) -> ConsentSettings:
    return await load_settings(core, workspace_id)


@router.put("/consent/settings", response_model=ConsentSettings)
async def replace_settings(
    body: ConsentSettings, core: CoreDep, workspace_id: WorkspaceDep
) -> ConsentSettings:
    await save_settings(core, workspace_id, body)
    return body


@router.post("/consent/link-key")
async def new_link_key(core: CoreDep, workspace_id: WorkspaceDep) -> dict[str, bool]:
    """Every unsubscribe link sent so far stops working (after a leak); new mail has new ones."""
    await rotate_link_key(core, workspace_id)
    return {"rotated": True}


async def _marketer(agent: AgentDep) -> Agent:
    if agent.user.role not in (Role.admin, Role.marketer):
        raise Forbidden("only admins and marketers change consent")
    return agent


@app_router.put("/customers/{customer_id}/consent/{channel_type}", response_model=ConsentOut)
async def change_in_app(
    customer_id: str,
    channel_type: str,
    body: ConsentChange,
    core: CoreDep,
    agent: Annotated[Agent, Depends(_marketer)],
) -> ConsentOut:
    user = agent.user
    actor = Author(kind=AuthorKind.agent, id=user.id, name=user.name)
    return await _change(core, user.workspace_id, customer_id, channel_type, body, actor)
