"""`/api/v1/tickets` (API tokens: the whole workspace) and `/app/api/tickets` (the signed-in
user: agents see their teams' tickets, marketers read only). Routes parse, call an action and
answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kith.core.errors import Forbidden
from kith.core.models import Author, AuthorKind
from kith.core.permissions import Scope
from kith.tickets import actions
from kith.tickets.models import Priority, Source, Status, Ticket, TicketIn, TicketPatch
from kith.tickets.queries import TicketFilter, list_tickets
from kith.tickets.store import get_ticket
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.schemas import Page
from kith.web.inbox.deps import AgentDep

READ = frozenset({"GET", "HEAD"})
Cursor = Annotated[str | None, Query(max_length=1024)]
Limit = Annotated[int, Query(ge=1, le=100)]


@dataclass(frozen=True)
class Asker:
    """Who asks: the workspace, the author of what they write, and what they may see
    (`scope` None: everything, an API token)."""

    workspace_id: str
    author: Author
    scope: Scope | None
    source: Source


async def token_asker(workspace_id: WorkspaceDep) -> Asker:
    return Asker(workspace_id, Author(kind=AuthorKind.system, name="api"), None, Source.api)


async def session_asker(request: Request, agent: AgentDep) -> Asker:
    """The signed-in user (CSRF checked on writes); marketers may only read."""
    if not agent.scope.can_write and request.method not in READ:
        raise Forbidden("only admins and agents change tickets")
    author = Author(kind=AuthorKind.agent, id=agent.user.id, name=agent.user.name)
    return Asker(agent.user.workspace_id, author, agent.scope, Source.agent)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(max_length=64)


def build(prefix: str, who: Callable[..., Awaitable[Asker]], schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["tickets"], include_in_schema=schema)
    asked = Depends(who)

    @router.get("", response_model=Page[Ticket])
    async def list_(
        core: CoreDep,
        asker: Asker = asked,
        status: Annotated[list[Status] | None, Query()] = None,
        priority: Annotated[list[Priority] | None, Query()] = None,
        assignee_id: Annotated[str | None, Query(max_length=64)] = None,
        team_id: Annotated[str | None, Query(max_length=64)] = None,
        customer_id: Annotated[str | None, Query(max_length=64)] = None,
        conversation_id: Annotated[str | None, Query(max_length=64)] = None,
        tag: Annotated[str | None, Query(max_length=64)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        cursor: Cursor = None,
        limit: Limit = 25,
    ) -> Page[Ticket]:
        wanted = TicketFilter(
            status=status or [],
            priority=priority or [],
            assignee_id=assignee_id,
            team_id=team_id,
            customer_id=customer_id,
            conversation_id=conversation_id,
            tag=tag,
            q=q,
        )
        items, next_cursor = await list_tickets(
            core, asker.workspace_id, asker.scope, wanted, cursor=cursor, limit=limit
        )
        return Page(items=items, next_cursor=next_cursor)

    @router.post("", status_code=201, response_model=Ticket)
    async def create(body: TicketIn, core: CoreDep, asker: Asker = asked) -> Ticket:
        return await actions.do_create_ticket(
            core, asker.workspace_id, body, asker.author, source=asker.source
        )

    @router.get("/{ticket_id}", response_model=Ticket)
    async def get(ticket_id: str, core: CoreDep, asker: Asker = asked) -> Ticket:
        return await get_ticket(core, asker.workspace_id, ticket_id, asker.scope)

    @router.patch("/{ticket_id}", response_model=Ticket)
    async def update(
        ticket_id: str, body: TicketPatch, core: CoreDep, asker: Asker = asked
    ) -> Ticket:
        ticket = await get_ticket(core, asker.workspace_id, ticket_id, asker.scope)
        return await actions.do_update_ticket(
            core, asker.workspace_id, ticket_id, body, asker.author, ticket=ticket
        )

    @router.post("/{ticket_id}/conversations", response_model=Ticket)
    async def link(ticket_id: str, body: LinkIn, core: CoreDep, asker: Asker = asked) -> Ticket:
        await get_ticket(core, asker.workspace_id, ticket_id, asker.scope)
        return await actions.do_link_conversation(
            core, asker.workspace_id, ticket_id, body.conversation_id, asker.author
        )

    return router


api_router = build("/api/v1/tickets", token_asker, schema=True)
app_router = build("/app/api/tickets", session_asker, schema=False)
