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
from kith.core.models import Author, AuthorKind, Message
from kith.core.permissions import Scope, ensure_admin, ensure_can_reach
from kith.tickets import actions, csat_api
from kith.tickets.merge import Merge, MergeIn, do_merge_ticket
from kith.tickets.models import (
    BulkIn,
    BulkOut,
    ListedTicket,
    Priority,
    Source,
    Status,
    Ticket,
    TicketIn,
    TicketPatch,
)
from kith.tickets.notes import Note, NoteIn, do_add_note
from kith.tickets.queries import TicketFilter, list_tickets, with_customers
from kith.tickets.replies import ReplyIn, do_reply
from kith.tickets.settings import TicketSettings, get_settings, save_settings
from kith.tickets.store import get_ticket
from kith.tickets.timeline import Item, timeline
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

    @router.get("", response_model=Page[ListedTicket])
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
    ) -> Page[ListedTicket]:
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
        listed = await with_customers(core, asker.scope, items)
        return Page(items=listed, next_cursor=next_cursor)

    @router.post("", status_code=201, response_model=Ticket)
    async def create(body: TicketIn, core: CoreDep, asker: Asker = asked) -> Ticket:
        await ensure_can_reach(
            core, asker.scope, customer_id=body.customer_id, conversation_id=body.conversation_id
        )
        return await actions.do_create_ticket(
            core, asker.workspace_id, body, asker.author, source=asker.source
        )

    @router.post("/bulk", response_model=BulkOut)
    async def bulk(body: BulkIn, core: CoreDep, asker: Asker = asked) -> BulkOut:
        """One change (`patch`, as a PATCH takes it) for up to 100 tickets, each changed as its
        own PATCH would change it; answers which changed, which were already so, and which
        were refused and why."""
        return await actions.do_bulk_update(
            core, asker.workspace_id, body.ids, body.patch, asker.author, asker.scope
        )

    csat_api.add_routes(router, asked)  # before `/{ticket_id}`: "csat" is no ticket id

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
        await ensure_can_reach(
            core, asker.scope, customer_id=None, conversation_id=body.conversation_id
        )
        return await actions.do_link_conversation(
            core, asker.workspace_id, ticket_id, body.conversation_id, asker.author
        )

    @router.post("/{ticket_id}/merge", response_model=Merge)
    async def merge(ticket_id: str, body: MergeIn, core: CoreDep, asker: Asker = asked) -> Merge:
        """Merge this duplicate into the ticket `into` names (its id or number)."""
        return await do_merge_ticket(
            core, asker.workspace_id, ticket_id, body.into, asker.author, asker.scope
        )

    @router.post("/{ticket_id}/notes", status_code=201, response_model=Note)
    async def add_note(ticket_id: str, body: NoteIn, core: CoreDep, asker: Asker = asked) -> Note:
        ticket = await get_ticket(core, asker.workspace_id, ticket_id, asker.scope)
        return await do_add_note(core, ticket, body.text, asker.author)

    @router.post("/{ticket_id}/replies", status_code=201, response_model=Message)
    async def reply(ticket_id: str, body: ReplyIn, core: CoreDep, asker: Asker = asked) -> Message:
        """A reply in the ticket's conversation, sent as the inbox sends one."""
        ticket = await get_ticket(core, asker.workspace_id, ticket_id, asker.scope)
        return await do_reply(core, ticket, body, asker.author, asker.scope)

    @router.get("/{ticket_id}/timeline", response_model=Page[Item])
    async def timeline_(
        ticket_id: str,
        core: CoreDep,
        asker: Asker = asked,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Page[Item]:
        ticket = await get_ticket(core, asker.workspace_id, ticket_id, asker.scope)
        items, next_cursor = await timeline(core, ticket, asker.scope, cursor=cursor, limit=limit)
        return Page(items=items, next_cursor=next_cursor)

    return router


async def admin_asker(request: Request, agent: AgentDep) -> Asker:
    """Only admins read and change the workspace's ticket settings in the web app."""
    ensure_admin(agent.scope)
    return await session_asker(request, agent)


def build_settings(prefix: str, who: Callable[..., Awaitable[Asker]], schema: bool) -> APIRouter:
    """The settings routes, on a router of their own: included before the ticket routes, so
    `/settings` is never read as a ticket id."""
    router = APIRouter(prefix=prefix, tags=["tickets"], include_in_schema=schema)
    asked = Depends(who)

    @router.get("/settings", response_model=TicketSettings)
    async def read(core: CoreDep, asker: Asker = asked) -> TicketSettings:
        return await get_settings(core, asker.workspace_id)

    @router.put("/settings", response_model=TicketSettings)
    async def change(body: TicketSettings, core: CoreDep, asker: Asker = asked) -> TicketSettings:
        return await save_settings(core, asker.workspace_id, body)

    return router


api_router = build("/api/v1/tickets", token_asker, schema=True)
app_router = build("/app/api/tickets", session_asker, schema=False)
api_settings_router = build_settings("/api/v1/tickets", token_asker, schema=True)
app_settings_router = build_settings("/app/api/tickets", admin_asker, schema=False)
