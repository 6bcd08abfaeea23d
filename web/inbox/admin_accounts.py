"""`/app/api` JSON for accounts: API tokens and passwords, behind the session and CSRF rules.

Admins list, create and revoke the workspace's API tokens, reset a user's password and lift
a user's sign-in locks (`kith.core.login_throttle`); every signed-in user changes their own
password. A new password ends the user's other sessions.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from kith.core import login_throttle
from kith.core.api_tokens import issue_api_token, list_api_tokens, revoke_api_token
from kith.core.clock import wall
from kith.core.users import do_change_password, do_reset_password, do_unlock_login
from kith.web.api.schemas import TokenCreate, TokenCreated
from kith.web.inbox.admin import AdminDep
from kith.web.inbox.deps import AgentDep, CoreDep

router = APIRouter(prefix="/app/api", include_in_schema=False)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=8, max_length=1024)


@router.put("/me/password")
async def change_password(body: PasswordChange, agent: AgentDep, core: CoreDep) -> dict[str, int]:
    """The signed-in user's new password; their other sessions end, this one stays."""
    ended = await do_change_password(
        core, agent.user, agent.session.id, body.current_password, body.new_password
    )
    return {"sessions_ended": ended}


@router.put("/users/{user_id}/password")
async def reset_password(
    user_id: str, body: PasswordReset, agent: AdminDep, core: CoreDep
) -> dict[str, int]:
    """An admin sets a user's password; every session of that user ends."""
    ended = await do_reset_password(
        core, agent.user, user_id, body.password, session_id=agent.session.id
    )
    return {"sessions_ended": ended}


@router.get("/users/login-locks")
async def login_locks(agent: AdminDep, core: CoreDep) -> dict[str, Any]:
    """The workspace's users who may not sign in now (at some address), and until when."""
    users = await core.store.users.find(
        {"workspace_id": agent.user.workspace_id}, {"email": 1}
    ).to_list(None)
    ids = {str(u["email"]).strip().lower(): u["_id"] for u in users if u.get("email")}
    until = await login_throttle.locked_until(core, list(ids))
    items = [{"user_id": ids[email], "locked_until": when} for email, when in until.items()]
    return {"items": jsonable_encoder(items)}


@router.post("/users/{user_id}/unlock")
async def unlock_login(user_id: str, agent: AdminDep, core: CoreDep) -> dict[str, int]:
    """Lift a user's sign-in locks at every address (a `user.login_unlocked` event)."""
    return {"locks_lifted": await do_unlock_login(core, agent.user, user_id)}


@router.get("/tokens")
async def tokens(agent: AdminDep, core: CoreDep) -> dict[str, Any]:
    found = await list_api_tokens(core, agent.user.workspace_id)
    return {"items": [t.model_dump(mode="json") for t in found]}


@router.post("/tokens", status_code=201)
async def add_token(body: TokenCreate, agent: AdminDep, core: CoreDep) -> dict[str, Any]:
    """A new API token; the answer is the only place its clear text appears."""
    record, token = await issue_api_token(
        core,
        agent.user.workspace_id,
        body.name,
        scope=body.scope,
        expires_at=body.expiry(wall(core.clock).now()),
    )
    return TokenCreated(**record.model_dump(), token=token).model_dump(mode="json")


@router.delete("/tokens/{token_id}")
async def remove_token(token_id: str, agent: AdminDep, core: CoreDep) -> dict[str, bool]:
    await revoke_api_token(core, agent.user.workspace_id, token_id)
    return {"revoked": True}
