"""Workspaces (Chatwoot's accounts): every document belongs to exactly one."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.ids import new_id
from kith.core.models import Workspace


async def ensure_default_workspace(core: Core, name: str = "Default") -> Workspace:
    """The first workspace, created on first start; later starts return the oldest one."""
    doc = await core.store.workspaces.find_one({}, sort=[("created_at", 1)])
    if doc is None:
        doc = {"_id": new_id(), "name": name, "created_at": core.clock.now()}
        await core.store.workspaces.insert_one(doc)
    return Workspace.model_validate(doc)


async def create_workspace(core: Core, name: str) -> Workspace:
    doc = {"_id": new_id(), "name": name, "created_at": core.clock.now()}
    await core.store.workspaces.insert_one(doc)
    return Workspace.model_validate(doc)
