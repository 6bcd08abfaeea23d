"""`/api/v1/tokens`: the workspace's API tokens: list, create (shown once) and revoke."""

from __future__ import annotations

from fastapi import APIRouter

from kith.core.api_tokens import ApiToken, issue_api_token, list_api_tokens, revoke_api_token
from kith.core.clock import wall
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.schemas import Page, TokenCreate, TokenCreated

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=Page[ApiToken])
async def list_(core: CoreDep, workspace_id: WorkspaceDep) -> Page[ApiToken]:
    """Every token: name, scope, when it was created, last used (to the minute) and expires."""
    return Page(items=await list_api_tokens(core, workspace_id), next_cursor=None)


@router.post("", status_code=201, response_model=TokenCreated)
async def create(body: TokenCreate, core: CoreDep, workspace_id: WorkspaceDep) -> TokenCreated:
    """A new token; `token` in the answer is its only appearance."""
    record, token = await issue_api_token(
        core,
        workspace_id,
        body.name,
        scope=body.scope,
        expires_at=body.expiry(wall(core.clock).now()),
    )
    return TokenCreated(**record.model_dump(), token=token)


@router.delete("/{token_id}")
async def revoke(token_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> dict[str, bool]:
    """The token stops working at once, on every process."""
    await revoke_api_token(core, workspace_id, token_id)
    return {"revoked": True}
