"""Dependencies shared by the API routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kith.connectors.base import bearer_token, current_core
from kith.core.auth import workspace_for_token
from kith.core.context import Core

CoreDep = Annotated[Core, Depends(current_core)]


async def api_workspace(request: Request, core: CoreDep) -> str:
    """The workspace of the request's API token (401 without a valid one)."""
    return await workspace_for_token(core, bearer_token(request))


WorkspaceDep = Annotated[str, Depends(api_workspace)]
