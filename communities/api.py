"""`/api/v1/communities` (API tokens) and `/app/api/communities` (the Communities page's
session): one set of routes, two ways of saying who asks. Agents read; admins and marketers
(community managers) change settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from kith.communities import actions, stats, via, waiting
from kith.communities.askers import Asker, manager_asker, seen_community, token_asker, visible
from kith.communities.models import Community, CommunityPatch, Member
from kith.communities.store import communities, members
from kith.core.errors import InvalidInput
from kith.core.ids import refuse_non_ids
from kith.core.pagination import page
from kith.web.api.deps import CoreDep
from kith.web.api.schemas import Page

Cursor = Annotated[str | None, Query(max_length=1024)]
Limit = Annotated[int, Query(ge=1, le=100)]
Days = Annotated[int, Query(ge=1, le=366)]
Search = Annotated[str | None, Query(min_length=1, max_length=100)]


def build(prefix: str, who: Callable[..., Awaitable[Asker]], schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["communities"], include_in_schema=schema)
    asked = Depends(who)  # in the default: see kith.sequences.api

    @router.get("", response_model=Page[Community])
    async def list_(
        core: CoreDep,
        asker: Asker = asked,
        cursor: Cursor = None,
        limit: Limit = 50,
        channel_id: Annotated[str | None, Query(max_length=64)] = None,
        chat_id: Annotated[str | None, Query(max_length=256)] = None,
    ) -> Page[Community]:
        """`channel_id` and `chat_id` together find a group's community (the inbox's panel)."""
        query: dict[str, Any] = {"workspace_id": asker.workspace_id, **visible(asker.scope)}
        refuse_non_ids({"channel_id": channel_id})
        if (channel_id is None) != (chat_id is None):
            field = "chat_id" if chat_id is None else "channel_id"
            raise InvalidInput("channel_id and chat_id go together", field=field)
        if channel_id is not None and chat_id is not None:
            query = {"$and": [query, {"channel_id": channel_id, "platform_chat_id": chat_id}]}
        docs, next_cursor = await page(
            communities(core), query, "_id", cursor=cursor, limit=limit, descending=False
        )
        return Page(items=[Community.from_doc(d) for d in docs], next_cursor=next_cursor)

    @router.get("/{community_id}", response_model=Community)
    async def get(community_id: str, core: CoreDep, asker: Asker = asked) -> Community:
        return await seen_community(core, asker, community_id)

    @router.patch("/{community_id}", response_model=Community)
    async def patch(
        community_id: str, body: CommunityPatch, core: CoreDep, asker: Asker = asked
    ) -> Community:
        return await actions.update(core, asker.workspace_id, community_id, body, asker.author)

    @router.get("/{community_id}/members", response_model=Page[Member])
    async def roster(
        community_id: str,
        core: CoreDep,
        asker: Asker = asked,
        status: Literal["member", "left", "banned", "rules", "all"] = "member",
        q: Search = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Page[Member]:
        """`rules`: members still restricted until they accept the rules (`awaiting_rules`).
        `q`: members whose name holds it (any case) or whose platform id is it."""
        community = await seen_community(core, asker, community_id)
        query = await waiting.roster_query(core, community.id, status, q)
        docs, next_cursor = await page(
            members(core), query, "joined_at", cursor=cursor, limit=limit, descending=True
        )
        items = await via.roster(core, community, docs)
        return Page(items=items, next_cursor=next_cursor)

    @router.get("/{community_id}/stats", response_model=stats.Stats)
    async def figures(
        community_id: str, core: CoreDep, asker: Asker = asked, days: Days = 30
    ) -> stats.Stats:
        community = await seen_community(core, asker, community_id)
        return await stats.read(core, community, days)

    return router


api_router = build("/api/v1/communities", token_asker, schema=True)
app_router = build("/app/api/communities", manager_asker, schema=False)
