"""Workspace API tokens: create, list, revoke, and the check behind every API request.

The clear token is shown once and stored only as its hash. A token may expire, and may be
read-only (its scope allows GET and HEAD alone). When a token was last used is kept to the
minute: recording it on every request would turn each read into a write, so a request
writes only when the stored moment is a minute old or more (conditionally, so that several
processes do not all write it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from kith.core.clock import aware, wall
from kith.core.context import Core
from kith.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from kith.core.ids import hash_secret, new_id, new_secret

LAST_USED_EVERY = timedelta(minutes=1)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenScope(StrEnum):
    full = "full"  # every route of the API
    read = "read"  # GET and HEAD only


class ApiToken(BaseModel):
    """What is kept of a token (never the token itself)."""

    id: str
    workspace_id: str
    name: str
    scope: TokenScope = TokenScope.full
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ApiToken:
        return cls.model_validate({**doc, "id": doc["_id"]})


async def issue_api_token(
    core: Core,
    workspace_id: str,
    name: str,
    token: str | None = None,
    *,
    scope: TokenScope = TokenScope.full,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its clear text, which is returned this once and never stored."""
    token = token or new_secret("kith")
    if len(token) < 16:
        raise InvalidInput("a token needs at least 16 characters", field="token")
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("a name needs 1 to 128 characters", field="name")
    now = wall(core.clock).now()
    if expires_at is not None and aware(expires_at) <= now:
        raise InvalidInput("the expiry must be in the future", field="expires_at")
    record = ApiToken(
        id=new_id(),
        workspace_id=workspace_id,
        name=name,
        scope=scope,
        created_at=now,
        expires_at=expires_at,
    )
    doc = record.model_dump(exclude={"id"}) | {"_id": record.id, "token_hash": hash_secret(token)}
    doc["scope"] = scope.value
    try:
        await core.store.api_tokens.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict("that token already exists", field="token") from None
    return record, token


async def create_api_token(
    core: Core, workspace_id: str, name: str, token: str | None = None
) -> str:
    """A new full-scope token without expiry; only its clear text (the CLI's and tests')."""
    return (await issue_api_token(core, workspace_id, name, token))[1]


async def list_api_tokens(core: Core, workspace_id: str) -> list[ApiToken]:
    cursor = core.store.api_tokens.find({"workspace_id": workspace_id}, {"token_hash": 0})
    return [ApiToken.from_doc(d) for d in await cursor.sort("created_at", 1).to_list(None)]


async def revoke_api_token(core: Core, workspace_id: str, token_id: str) -> None:
    """The token stops working on its next request, on every process (none caches it)."""
    found = await core.store.api_tokens.delete_one({"_id": token_id, "workspace_id": workspace_id})
    if not found.deleted_count:
        raise NotFound("no such API token", field="token_id")


async def token_access(core: Core, token: str, method: str) -> ApiToken:
    """The token behind a request, if it is known, unexpired and its scope allows `method`."""
    doc = await core.store.api_tokens.find_one({"token_hash": hash_secret(token)})
    if doc is None:
        raise Unauthorized("invalid API token")
    record = ApiToken.from_doc(doc)
    now = wall(core.clock).now()
    if record.expires_at is not None and aware(record.expires_at) <= now:
        raise Unauthorized("this API token has expired", code="token_expired")
    if record.scope == TokenScope.read and method.upper() not in READ_METHODS:
        raise Forbidden(
            "this API token's scope is 'read': it may only read (GET, HEAD)",
            field="scope",
            code="read_only_token",
        )
    await _note_use(core, record, now)
    return record


async def _note_use(core: Core, record: ApiToken, now: datetime) -> None:
    last = record.last_used_at
    if last is not None and now - aware(last) < LAST_USED_EVERY:
        return
    stale = {"$or": [{"last_used_at": None}, {"last_used_at": {"$lte": now - LAST_USED_EVERY}}]}
    await core.store.api_tokens.update_one(
        {"_id": record.id, **stale}, {"$set": {"last_used_at": now}}
    )


async def workspace_for_token(core: Core, token: str) -> str:
    """The workspace a token may read; `Unauthorized` for anything else."""
    return (await token_access(core, token, "GET")).workspace_id
