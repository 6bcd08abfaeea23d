"""`GET …/communities/{id}/audit` (the moderation log, newest first, cursor pages) and
`POST …/communities/{id}/audit/{audit_id}/lift`, under `/api/v1` (API tokens) and `/app/api`
(the session). Moderators are whoever works the inbox, where appeals arrive: any signed-in
user may lift."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from kith.communities import lift as lifting
from kith.communities.askers import Asker, agent_asker, seen_community, token_asker
from kith.communities.audit import AuditRow, audit
from kith.core.pagination import page
from kith.web.api.deps import CoreDep
from kith.web.api.schemas import Page

Cursor = Annotated[str | None, Query(max_length=1024)]
Limit = Annotated[int, Query(ge=1, le=100)]
UserId = Annotated[str | None, Query(max_length=256, description="One member's rows.")]


def build(prefix: str, who: Callable[..., Awaitable[Asker]], schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["communities"], include_in_schema=schema)
    asked = Depends(who)  # in the default: see kith.sequences.api

    @router.get("/{community_id}/audit", response_model=Page[AuditRow])
    async def log(
        community_id: str,
        core: CoreDep,
        asker: Asker = asked,
        platform_user_id: UserId = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Page[AuditRow]:
        community = await seen_community(core, asker, community_id)
        query: dict[str, Any] = {"community_id": community.id}
        if platform_user_id is not None:
            query["platform_user_id"] = platform_user_id  # a str: never an operator
        docs, next_cursor = await page(
            audit(core), query, "at", cursor=cursor, limit=limit, descending=True
        )
        return Page(items=[AuditRow.from_doc(d) for d in docs], next_cursor=next_cursor)

    @router.post("/{community_id}/audit/{audit_id}/lift", response_model=AuditRow)
    async def lift(
        community_id: str, audit_id: str, core: CoreDep, asker: Asker = asked
    ) -> AuditRow:
        community = await seen_community(core, asker, community_id)
        return await lifting.lift(core, community, audit_id, asker.author)

    return router


api_router = build("/api/v1/communities", token_asker, schema=True)
app_router = build("/app/api/communities", agent_asker, schema=False)
