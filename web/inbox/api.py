"""`/app/api`: the JSON the inbox page reads and writes, behind the session and its rules.

Routes stay thin: check the reader's scope, call a core action, answer.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from kith.core.canned import create_canned, delete_canned, search_canned
from kith.core.context import Core
from kith.core.conversations import do_assign_replier, get_conversation, mark_read
from kith.core.customers import do_merge_customers, do_update_customer, get_customer
from kith.core.errors import Forbidden, InvalidInput, NotFound
from kith.core.models import (
    Author,
    AuthorKind,
    Conversation,
    ConversationStatus,
    Customer,
    Message,
    OutboundContent,
    Priority,
)
from kith.core.outbox import retry, send
from kith.core.permissions import ensure_admin, ensure_can_read, ensure_can_write, sees_customer
from kith.core.search_snippets import matched_snippets
from kith.core.team_removal import do_delete_team, team_holdings
from kith.core.teams import (
    create_team,
    do_change_team,
    list_teams,
)
from kith.core.users import do_create_user
from kith.orders.api import OrderOut
from kith.orders.store import customer_orders
from kith.tickets.queries import customer_tickets
from kith.web.api.deps import Cursor
from kith.web.api.schemas import ConversationPatch
from kith.web.inbox.deps import Agent, AgentDep, CoreDep, agent_with
from kith.web.inbox.queries import (
    ListQuery,
    conversation_view,
    customer_panel,
    customers_by_id,
    list_inbox,
    view_subqueries,
)
from kith.web.inbox.schemas import (
    CannedCreate,
    CustomerMerge,
    Reply,
    Settings,
    TagsChange,
    TeamChange,
    TeamCreate,
    UserCreate,
    user_out,
)

router = APIRouter(prefix="/app/api", tags=["inbox"], include_in_schema=False)
Id = Annotated[str, Query(max_length=64)]


def author_of(agent: Agent) -> Author:
    return Author(kind=AuthorKind.agent, id=agent.user.id, name=agent.user.name)


def conversation_out(
    conversation: Conversation, names: dict[str, Any], agent: Agent
) -> dict[str, Any]:
    """The conversation as the inbox shows it to `agent`: its unread count is their own."""
    out = conversation.model_dump(mode="json")
    out["unread_count"] = conversation.unread_for(agent.user.id)
    customer = names.get(conversation.customer_id)
    out["customer_name"] = customer.shown_name if customer else None
    return out


def message_out(message: Message) -> dict[str, Any]:
    return message.model_dump(mode="json")


async def readable(core: Core, agent: Agent, conversation_id: str) -> Conversation:
    """The conversation if the agent may read it: 404 if it does not exist, else 403."""
    conversation = await get_conversation(core, agent.user.workspace_id, conversation_id)
    ensure_can_read(agent.scope, conversation)
    return conversation


@router.get("/me")
async def me(agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    doc = await core.store.users.find_one({"_id": agent.user.id}) or {}
    return {
        "user": user_out(doc),
        "locale": doc.get("locale"),
        "csrf_token": agent.session.csrf_token,
        "can_write": agent.scope.can_write,
        "is_admin": agent.scope.is_admin,
    }


@router.put("/me/settings")
async def settings(body: Settings, agent: AgentDep, core: CoreDep) -> dict[str, str]:
    await core.store.users.update_one({"_id": agent.user.id}, {"$set": {"locale": body.locale}})
    return {"locale": body.locale}


@router.get("/conversations")
async def conversations(
    agent: AgentDep,
    core: CoreDep,
    view: Annotated[str, Query(pattern="^(mine|unassigned|all)$")] = "all",
    status: Annotated[str, Query(pattern="^(open|pending|snoozed|resolved|any)$")] = "open",
    channel: Annotated[str | None, Query(max_length=64)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    priority: Priority | None = None,
    sentiment: Annotated[str | None, Query(pattern="^(positive|neutral|negative)$")] = None,
    sort: Annotated[str, Query(pattern="^(activity|waiting)$")] = "activity",
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> dict[str, Any]:
    query = ListQuery(
        view=view,
        status=None if status == "any" else ConversationStatus(status),
        channel_id=channel or None,
        label=label or None,
        priority=priority,
        sentiment=sentiment,
        sort=sort,
        q=(q or "").strip() or None,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = await list_inbox(core, agent.scope, query)
    names, matched = await asyncio.gather(
        customers_by_id(core, [c.customer_id for c in items]),
        matched_snippets(core, [c.id for c in items], query.q or ""),
    )
    items_out = [conversation_out(c, names, agent) for c in items]
    for out in items_out:  # why a searched conversation was found: its matching message
        out["matched"] = matched.get(out["id"])
    return {"items": items_out, "next_cursor": next_cursor}


@router.get("/conversations/{conversation_id}")
async def conversation(
    conversation_id: Annotated[str, Path(max_length=64)], request: Request, core: CoreDep
) -> JSONResponse:
    """The busiest read of the inbox: session, scope, conversation, customer and messages
    come back in one round trip (see `view_subqueries`)."""
    agent, found = await agent_with(request, core, view_subqueries(conversation_id))
    view = conversation_view(agent.scope, found)
    names = {view.customer.id: view.customer} if view.customer else {}
    return JSONResponse(
        {
            "conversation": conversation_out(view.conversation, names, agent),
            "messages": [message_out(m) for m in view.messages],
            "can_write": agent.scope.can_write,
        }
    )


@router.post("/conversations/{conversation_id}/read")
async def read(conversation_id: str, agent: AgentDep, core: CoreDep) -> dict[str, bool]:
    found = await readable(core, agent, conversation_id)
    if agent.scope.can_write:
        await mark_read(core, found, agent.user.id, author_of(agent))
    return {"ok": True}


@router.patch("/conversations/{conversation_id}")
async def change(
    conversation_id: str, body: ConversationPatch, agent: AgentDep, core: CoreDep
) -> dict[str, Any]:
    found = await readable(core, agent, conversation_id)
    ensure_can_write(agent.scope, found)
    updated = await body.apply(core, found, author_of(agent))
    names = await customers_by_id(core, [updated.customer_id])
    return conversation_out(updated, names, agent)


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def reply(
    conversation_id: str, body: Reply, agent: AgentDep, core: CoreDep
) -> dict[str, Any]:
    """A reply goes out on the customer's channel and thread; a private note stays here. An
    agent answering a conversation that nobody has takes it (`do_assign_replier`)."""
    found = await readable(core, agent, conversation_id)
    ensure_can_write(agent.scope, found)
    content = OutboundContent(text=body.text, private=body.private)
    sent = await send(core, found, content, author_of(agent))
    await do_assign_replier(core, found, sent)
    return message_out(sent)


@router.post("/messages/{message_id}/retry")
async def retry_message(message_id: str, agent: AgentDep, core: CoreDep) -> dict[str, bool]:
    doc = await core.store.messages.find_one(
        {"_id": message_id, "workspace_id": agent.user.workspace_id}, {"conversation_id": 1}
    )
    if doc is None:
        raise NotFound("no such message", field="message_id")
    ensure_can_write(agent.scope, await readable(core, agent, doc["conversation_id"]))
    if not await retry(core, agent.user.workspace_id, message_id):
        raise InvalidInput("only a failed message can be retried", field="message_id")
    return {"queued": True}


async def _visible_customer(core: Core, agent: Agent, customer_id: str) -> Customer:
    customer = await get_customer(core, agent.user.workspace_id, customer_id)
    if not await sees_customer(core, agent.scope, customer_id):
        raise Forbidden("this customer talks to another team")
    return customer


@router.get("/customers/{customer_id}")
async def customer(customer_id: str, agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    """The customer panel in one answer: the profile, identities, conversations and sentiment,
    and the latest tickets and orders as `/app/api/tickets` and `/app/api/orders` list them
    for this reader (tickets of teams the agent is not in are left out; orders follow the
    customer, whom the agent may see)."""
    found = await _visible_customer(core, agent, customer_id)
    panel = await customer_panel(core, agent.scope, found)
    out = found.model_dump(mode="json", exclude={"consent", "identities", "sentiment"})
    out["identities"] = panel["identities"]
    out["conversations"] = [c.model_dump(mode="json") for c in panel["conversations"]]
    out["sentiment_history"] = panel["sentiment_history"]
    shown = await customer_tickets(core, agent.scope, found.id)
    out["tickets"] = [t.model_dump(mode="json") for t in shown]
    bought = await customer_orders(core, agent.user.workspace_id, found.id)
    out["orders"] = [OrderOut.of(o).model_dump(mode="json") for o in bought]
    return out


@router.post("/customers/{customer_id}/merge")
async def merge_customer(
    customer_id: str, body: CustomerMerge, agent: AgentDep, core: CoreDep
) -> dict[str, Any]:
    """The panel's "Merge with…": the other customer's identities, conversations and data
    move to this one (`do_merge_customers`, undoable from Contacts → Merges). Both must be
    customers the agent may see."""
    if not agent.scope.can_write:
        raise Forbidden("your role cannot merge customers")
    survivor = await _visible_customer(core, agent, customer_id)
    try:
        other = await _visible_customer(core, agent, body.other_id)
    except NotFound:
        raise NotFound("no such customer", field="other_id") from None
    merged = await do_merge_customers(
        core, agent.user.workspace_id, survivor.id, other.id, author_of(agent), via="inbox"
    )
    return {"id": merged.id, "name": merged.name, "merged_id": other.id}


@router.put("/customers/{customer_id}/tags")
async def tags(
    customer_id: str, body: TagsChange, agent: AgentDep, core: CoreDep
) -> dict[str, Any]:
    found = await _visible_customer(core, agent, customer_id)
    updated = await do_update_customer(
        core, found, actor=author_of(agent), fields={"tags": body.tags}
    )
    return {"tags": updated.tags}


@router.get("/canned")
async def canned(
    agent: AgentDep, core: CoreDep, q: Annotated[str, Query(max_length=33)] = ""
) -> dict[str, Any]:
    found = await search_canned(core, agent.user.workspace_id, q)
    return {"items": [c.model_dump() for c in found]}


@router.post("/canned", status_code=201)
async def add_canned(body: CannedCreate, agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    if not agent.scope.can_write:
        raise Forbidden("your role cannot add canned responses")
    return (
        await create_canned(core, agent.user.workspace_id, body.shortcut, body.text)
    ).model_dump()


@router.delete("/canned/{canned_id}")
async def remove_canned(canned_id: str, agent: AgentDep, core: CoreDep) -> dict[str, bool]:
    ensure_admin(agent.scope)
    await delete_canned(core, agent.user.workspace_id, canned_id)
    return {"deleted": True}


@router.get("/users")
async def users(agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    docs = core.store.users.find({"workspace_id": agent.user.workspace_id}).sort("name", 1)
    return {"items": [user_out(d) for d in await docs.to_list(None)]}


@router.post("/users", status_code=201)
async def add_user(body: UserCreate, agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    ensure_admin(agent.scope)
    return user_out(
        await do_create_user(
            core,
            agent.user,
            body.email,
            body.password,
            name=body.name,
            role=body.role,
            team_ids=body.team_ids,
        )
    )


@router.get("/teams")
async def teams(agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    return {"items": [t.model_dump() for t in await list_teams(core, agent.user.workspace_id)]}


@router.post("/teams", status_code=201)
async def add_team(body: TeamCreate, agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    ensure_admin(agent.scope)
    team = await create_team(
        core, agent.user.workspace_id, body.name, body.channel_ids, body.member_ids
    )
    return team.model_dump()


@router.patch("/teams/{team_id}")
async def change_team(
    team_id: str, body: TeamChange, agent: AgentDep, core: CoreDep
) -> dict[str, Any]:
    ensure_admin(agent.scope)
    team = await do_change_team(
        core,
        agent.user.workspace_id,
        team_id,
        name=body.name,
        add_member_ids=body.add_member_ids,
        remove_member_ids=body.remove_member_ids,
        channel_ids=body.channel_ids,
    )
    return team.model_dump()


@router.get("/teams/{team_id}/holdings")
async def team_holds(team_id: str, agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    """What deleting the team would move (members, conversations, tickets) and which rules
    (bots, SLA policies, sequences) name it: what the delete dialog says before asking."""
    ensure_admin(agent.scope)
    return await team_holdings(core, agent.user.workspace_id, team_id)


@router.delete("/teams/{team_id}")
async def remove_team(team_id: str, agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    """Delete a team: its conversations and tickets move to no team, its members keep their
    accounts; refused (409 `team_in_use`) while a bot, SLA policy or sequence names it."""
    ensure_admin(agent.scope)
    moved = await do_delete_team(core, agent.user.workspace_id, team_id, author_of(agent))
    return {"deleted": True, **moved}


@router.get("/channels")
async def channels(agent: AgentDep, core: CoreDep) -> dict[str, Any]:
    query: dict[str, Any] = {"workspace_id": agent.user.workspace_id}
    if agent.scope.channel_ids is not None:
        query["_id"] = {"$in": sorted(agent.scope.channel_ids)}
    docs = await core.store.channels.find(query, {"name": 1, "type": 1}).to_list(None)
    return {"items": [{"id": d["_id"], "name": d["name"], "type": d["type"]} for d in docs]}
