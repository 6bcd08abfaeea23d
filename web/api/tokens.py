"""`/api/v1/tokens`: the workspace's API tokens: list, create (shown once) and revoke.

A token manages tokens only within its own rights: listing them needs a full token (a
read-only one would see every token's name and use), and a token creates none that
outranks it or outlives it, so that an expiry cannot be got around by minting a successor.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from kith.connectors.base import bearer_token
from kith.core.api_tokens import (
    ApiToken,
    TokenScope,
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
    token_access,
)
from kith.core.clock import aware, wall
from kith.core.errors import Forbidden, InvalidInput
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.schemas import Page, TokenCreate, TokenCreated

router = APIRouter(prefix="/tokens", tags=["tokens"])

RANK = {TokenScope.read: 0, TokenScope.full: 1}


async def _caller(request: Request, core: CoreDep) -> ApiToken:
    return await token_access(core, bearer_token(request), request.method)


CallerDep = Annotated[ApiToken, Depends(_caller)]


def _full(caller: ApiToken) -> None:
    if caller.scope != TokenScope.full:
        raise Forbidden(
            "managing API tokens needs a token whose scope is 'full'",
            field="scope",
            code="read_only_token",
        )


def _within(caller: ApiToken, body: TokenCreate, now: datetime) -> None:
    """A new token no stronger and no longer-lived than the one creating it."""
    if RANK[body.scope] > RANK[caller.scope]:
        raise Forbidden(
            f"a token may create tokens of its own scope ('{caller.scope}') or less",
            field="scope",
            code="scope_above_token",
        )
    if caller.expires_at is None:
        return
    days = (aware(caller.expires_at) - now) // timedelta(days=1)
    if days < 1:
        raise Forbidden(
            "this token expires within a day: it cannot create tokens",
            field="expires_in_days",
            code="token_expiring",
        )
    if body.expires_in_days is None or body.expires_in_days > days:
        raise InvalidInput(
            f"this token expires in {days} days: a token it creates must expire within "
            f"{days} days (`expires_in_days` at most {days})",
            field="expires_in_days",
            reason="less_than_equal",
            limits={"le": days},
        )


@router.get("", response_model=Page[ApiToken])
async def list_(core: CoreDep, caller: CallerDep) -> Page[ApiToken]:
    """Every token: name, scope, when it was created, last used (to the minute) and expires.
    Needs a full token."""
    _full(caller)
    return Page(items=await list_api_tokens(core, caller.workspace_id), next_cursor=None)


@router.post("", status_code=201, response_model=TokenCreated)
async def create(body: TokenCreate, core: CoreDep, caller: CallerDep) -> TokenCreated:
    """A new token; `token` in the answer is its only appearance. It may not outrank the
    token creating it (`scope`), nor outlive it: a token that expires creates only tokens
    with `expires_in_days`, expiring no later than itself."""
    now = wall(core.clock).now()
    _within(caller, body, now)
    record, token = await issue_api_token(
        core, caller.workspace_id, body.name, scope=body.scope, expires_at=body.expiry(now)
    )
    return TokenCreated(**record.model_dump(), token=token)


@router.delete("/{token_id}")
async def revoke(token_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> dict[str, bool]:
    """The token stops working at once, on every process."""
    await revoke_api_token(core, workspace_id, token_id)
    return {"revoked": True}
