"""Dependencies shared by the API routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kith.connectors.base import bearer_token, current_core
from kith.core.api_tokens import token_access
from kith.core.context import Core

CoreDep = Annotated[Core, Depends(current_core)]


async def api_workspace(request: Request, core: CoreDep) -> str:
    """The workspace of the request's API token: 401 without a valid one, 403 when its scope
    does not allow the method (a read-only token writing)."""
    return (await token_access(core, bearer_token(request), request.method)).workspace_id


WorkspaceDep = Annotated[str, Depends(api_workspace)]
