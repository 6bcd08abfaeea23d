"""Reads of tickets: the filtered, paged list (newest number first)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kith.core.context import Core
from kith.core.customers import customers_by_id
from kith.core.ids import refuse_non_ids
from kith.core.pagination import page
from kith.core.permissions import Scope
from kith.core.search_terms import lone_character, query_terms
from kith.tickets.models import ListedTicket, Priority, Status, Ticket, TicketCustomer
from kith.tickets.store import tickets, visible

ID_FILTERS = ("assignee_id", "team_id", "customer_id", "conversation_id")
# Customers whose profile a search matches, at most, per read (a name so common that more
# match finds their tickets by its other words).
CUSTOMERS_SEARCHED = 500


class TicketFilter(BaseModel):
    """What a list asks for; each given field narrows it (values are compared, never
    read as operators)."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] = []
    priority: list[Priority] = []
    assignee_id: str | None = Field(default=None, max_length=64)
    team_id: str | None = Field(default=None, max_length=64)
    customer_id: str | None = Field(default=None, max_length=64)
    conversation_id: str | None = Field(default=None, max_length=64)
    tag: str | None = Field(default=None, max_length=64)
    # A number ("12" or "#12"), or words found in the subject or description, or in the
    # customer's name or email address (`_search`).
    q: str | None = Field(default=None, max_length=200)

    def refuse_non_ids(self) -> None:
        """A 422 naming every id filter whose value is no id (`kith.core.ids.is_id`)."""
        refuse_non_ids({name: getattr(self, name) for name in ID_FILTERS})

    def query(self) -> dict[str, Any]:
        """Every filter but `q`, which needs a read of its own (`_search`)."""
        query: dict[str, Any] = {}
        if self.status:
            query["status"] = {"$in": [s.value for s in self.status]}
        if self.priority:
            query["priority"] = {"$in": [p.value for p in self.priority]}
        for name in ("assignee_id", "team_id", "customer_id"):
            value = getattr(self, name)
            if value is not None:
                query[name] = value
        if self.conversation_id is not None:
            query["conversation_ids"] = self.conversation_id
        if self.tag is not None:
            query["tags"] = self.tag
        return query


async def _search(core: Core, workspace_id: str, text: str) -> list[dict[str, Any]]:
    """The tickets `text` finds, as branches of one `$or`, each on an index: its number; its
    subject's and description's terms (`Ticket.to_doc`), all of the query's; or its
    customer's, where the customer's profile holds some of the query's terms (their `terms`,
    kept by the search feature) and the ticket the rest ("hopper crash": Grace Hopper's
    tickets about a crash). Terms are strings compared for equality (one CJK character: the
    terms it starts): `q` is never an operator or a pattern of its own. A query that is
    nothing to find ("?", ".*") finds no ticket."""
    branches: list[dict[str, Any]] = []
    digits = text.removeprefix("#")
    if digits.isdigit() and len(digits) < 12:
        branches.append({"number": int(digits)})
    wanted = query_terms(text)
    if not wanted:
        return branches or [{"_id": {"$in": []}}]
    character = lone_character(text)
    if character:  # "退": its pairs (退款, 退货) and it alone. An anchored, escaped pattern:
        # a range on an array field matches across elements, and `$elemMatch` with a range
        # brings DocumentDB down.
        branches.append({"terms": {"$regex": "^" + re.escape(character)}})
    else:
        branches.append({"terms": {"$all": wanted}})
    for rest, customer_ids in (await _customers_by_rest(core, workspace_id, wanted)).items():
        branch: dict[str, Any] = {"customer_id": {"$in": customer_ids}}
        if rest:
            branch["terms"] = {"$all": list(rest)}
        branches.append(branch)
    return branches


async def _customers_by_rest(
    core: Core, workspace_id: str, wanted: list[str]
) -> dict[tuple[str, ...], list[str]]:
    """The customers whose profile holds some of `wanted`, by the terms it lacks (which their
    ticket must hold). Those holding them all are read apart, so that customers matching
    one common word cannot crowd out the one matching every word."""
    reads = [{"$all": wanted}] + ([{"$in": wanted}] if len(wanted) > 1 else [])
    found = await asyncio.gather(
        *(
            core.store.customers.find(
                {"workspace_id": workspace_id, "terms": read}, {"terms": 1}
            ).to_list(CUSTOMERS_SEARCHED)
            for read in reads
        )
    )
    by_rest: dict[tuple[str, ...], list[str]] = {}
    seen: set[str] = set()
    for doc in (doc for docs in found for doc in docs):
        if doc["_id"] in seen:
            continue
        seen.add(doc["_id"])
        held = set(doc.get("terms", ()))
        rest = tuple(term for term in wanted if term not in held)
        by_rest.setdefault(rest, []).append(doc["_id"])
    return by_rest


async def list_tickets(
    core: Core,
    workspace_id: str,
    scope: Scope | None,
    wanted: TicketFilter,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[Ticket], str | None]:
    wanted.refuse_non_ids()
    base = visible(scope) if scope is not None else {"workspace_id": workspace_id}
    narrowed = [base, wanted.query()]
    if wanted.q and wanted.q.strip():
        narrowed.append({"$or": await _search(core, workspace_id, wanted.q.strip())})
    query = {"$and": [n for n in narrowed if n]}
    docs, next_cursor = await page(
        tickets(core), query, "number", cursor=cursor, limit=limit, descending=True
    )
    return [Ticket.from_doc(d) for d in docs], next_cursor


async def with_customers(
    core: Core, scope: Scope | None, items: list[Ticket]
) -> list[ListedTicket]:
    """A page of tickets with their customers' names, read for the page at once: one read of
    the customers and, for an agent bound to teams, one of those they may see (a customer who
    talks only to other teams stays unnamed, as the contacts refuse them that customer)."""
    names = await customers_by_id(core, [t.customer_id for t in items])
    seen: set[str] = set(names)
    if scope is not None and scope.channel_ids is not None and names:
        query = {"$and": [scope.conversation_filter(), {"customer_id": {"$in": sorted(names)}}]}
        seen = set(await core.store.conversations.distinct("customer_id", query))

    def customer(ticket: Ticket) -> TicketCustomer | None:
        found = names.get(ticket.customer_id)
        if found is None:
            return None
        shown = found.shown_name if ticket.customer_id in seen else None
        return TicketCustomer(id=found.id, name=shown)

    return [ListedTicket(**t.model_dump(), customer=customer(t)) for t in items]


CUSTOMER_PANEL_TICKETS = 20


async def customer_tickets(core: Core, scope: Scope, customer_id: str) -> list[ListedTicket]:
    """The newest tickets of a customer that `scope` may see (the inbox's customer panel), as
    the list writes them (`with_customers`)."""
    query = {"$and": [visible(scope), {"customer_id": customer_id}]}
    cursor = tickets(core).find(query).sort("number", -1).limit(CUSTOMER_PANEL_TICKETS)
    found = [Ticket.from_doc(d) for d in await cursor.to_list(CUSTOMER_PANEL_TICKETS)]
    return await with_customers(core, scope, found)
