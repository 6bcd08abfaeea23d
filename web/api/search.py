"""`GET /api/v1/search`: one search box over conversations, tickets and customers (as
Zendesk's and Chatwoot's), answering a few of each with what a result row shows.

There is no matcher of its own: each group is its list's search, called as the list calls it,
so that a word finds here what it finds there and nothing else. Conversations are the
inbox's (`kith.core.search`, every status), tickets the Tickets list's
(`kith.tickets.queries.list_tickets`), customers the Contacts search
(`kith.web.api.customers.search_filter`). A signed-in user (`search_everywhere(…, scope)`,
the page's `/app/api/search`) sees each group as they see its list (`kith.core.scopes`,
`kith.tickets.store.visible`): an agent their teams' conversations, tickets and customers;
an API token sees the whole workspace.

`q` is read as NFKC first, so a Chinese keyboard's full-width "＃２" or "ＧＲＡＣＥ" finds what
"#2" and "GRACE" find. A ticket number ("#12", "12") also finds the tickets whose words hold
it; the ticket with that very number, when the reader may see it, comes first. Written with
"#" it names a ticket and nothing else: only tickets are searched (`ticket_number`), where
"12" alone also finds conversations and customers whose words hold it.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kith.core.context import Core
from kith.core.customers import customers_by_id
from kith.core.errors import InvalidInput
from kith.core.models import Conversation, Customer
from kith.core.pagination import page
from kith.core.permissions import Scope
from kith.core.scopes import conversations_visible, customers_visible
from kith.core.search import search_page
from kith.core.search_snippets import matched_snippets, one_line
from kith.tickets.models import Ticket
from kith.tickets.queries import TicketFilter, list_tickets
from kith.tickets.store import tickets as tickets_of
from kith.tickets.store import visible
from kith.web.api.customers import search_filter
from kith.web.api.deps import CoreDep, WorkspaceDep

router = APIRouter(tags=["search"])

Q_MAX = 200  # the conversations' and tickets' lists take no longer `q`
LIMIT_MAX = 20

SearchText = Annotated[
    str,
    Query(
        min_length=1,
        max_length=Q_MAX,
        description="Words or Chinese text, a name, an email, a phone number or a ticket "
        "number (#12). Only text: never an operator or a pattern.",
    ),
]
SearchLimit = Annotated[int, Query(ge=1, le=LIMIT_MAX, description="Results per group.")]


class ConversationHit(BaseModel):
    id: str
    title: str | None = Field(description="The group's title, else the customer's name.")
    customer_id: str
    channel_type: str
    status: str
    snippet: str = Field(
        description="The newest message holding the words searched for, one line from a "
        "little before them; else (found by its customer's name, email or phone) its last "
        "message or reply."
    )
    last_message_at: datetime
    link: str


class TicketHit(BaseModel):
    id: str
    number: int
    title: str
    status: str
    priority: str
    customer_id: str
    updated_at: datetime
    link: str


class CustomerHit(BaseModel):
    id: str
    name: str | None = Field(description="Their name, else their first email or phone.")
    snippet: str = Field(description="Their emails and phones.")
    tags: list[str]
    link: str


class More(BaseModel):
    """Whether each group holds more than it answered ("see all" opens its list)."""

    conversations: bool
    tickets: bool
    customers: bool


class SearchResults(BaseModel):
    q: str
    conversations: list[ConversationHit]
    tickets: list[TicketHit]
    customers: list[CustomerHit]
    more: More
    ticket_number: int | None = Field(
        default=None,
        description='The ticket number `q` names ("#12"): then only tickets are searched.',
    )


def _conversation_hit(
    conversation: Conversation, names: dict[str, Customer], matched: dict[str, str]
) -> ConversationHit:
    customer = names.get(conversation.customer_id)
    group = conversation.group.title if conversation.group else None
    preview = conversation.preview
    snippet = matched.get(conversation.id) or (
        preview.text if preview is not None and not preview.private else ""
    )
    return ConversationHit(
        id=conversation.id,
        title=group or (customer.shown_name if customer else None),
        customer_id=conversation.customer_id,
        channel_type=conversation.channel_type,
        status=conversation.status.value,
        snippet=one_line(snippet),
        last_message_at=conversation.last_message_at,
        link=f"/app?conversation={conversation.id}",
    )


def _ticket_hit(ticket: Ticket) -> TicketHit:
    return TicketHit(
        id=ticket.id,
        number=ticket.number,
        title=ticket.subject,
        status=ticket.status.value,
        priority=ticket.priority.value,
        customer_id=ticket.customer_id,
        updated_at=ticket.updated_at,
        link=f"/app/tickets/{ticket.id}",
    )


def _customer_hit(customer: Customer) -> CustomerHit:
    return CustomerHit(
        id=customer.id,
        name=customer.shown_name,
        snippet=one_line(", ".join([*customer.emails, *customer.phones])),
        tags=customer.tags,
        link=f"/app/contacts/{customer.id}",
    )


async def _conversations(
    core: Core, workspace_id: str, scope: Scope | None, q: str, limit: int
) -> tuple[list[Conversation], str | None]:
    """The inbox's search with every status, latest activity first."""
    query = conversations_visible(workspace_id, scope)
    docs, more = await search_page(core, workspace_id, query, q, cursor=None, limit=limit)
    return [Conversation.from_doc(d) for d in docs], more


async def _customers(
    core: Core, workspace_id: str, scope: Scope | None, q: str, limit: int
) -> tuple[list[Customer], str | None]:
    query: dict[str, Any] = {"workspace_id": workspace_id, "merged_into": None}
    query.update(search_filter(q))
    docs, next_cursor = await page(
        core.store.customers,
        customers_visible(scope, query),
        "_id",
        cursor=None,
        limit=limit,
        descending=True,
    )
    return [Customer.from_doc(d) for d in docs], next_cursor


_NUMBERED = re.compile(r"#([0-9]{1,11})")  # ASCII digits: NFKC made "＃１２" "#12"


def _ticket_number(text: str) -> int | None:
    """The number `text` names as a ticket's ("#12" or "12"), as the Tickets list reads it."""
    digits = text.removeprefix("#")
    return int(digits) if digits.isdigit() and len(digits) < 12 else None


async def _tickets(
    core: Core, workspace_id: str, scope: Scope | None, q: str, limit: int
) -> tuple[list[Ticket], str | None]:
    """The Tickets list's search, with the ticket numbered `q` (if any, and visible) first."""
    found, more = await list_tickets(
        core, workspace_id, scope, TicketFilter(q=q), cursor=None, limit=limit
    )
    number = _ticket_number(q)
    if number is None:
        return found, more
    exact = [t for t in found if t.number == number]
    if not exact:
        base = visible(scope) if scope is not None else {"workspace_id": workspace_id}
        doc = await tickets_of(core).find_one({"$and": [base, {"number": number}]})
        if doc is None:
            return found, more
        exact = [Ticket.from_doc(doc)]
    rest = [t for t in found if t.number != number]
    return (exact + rest)[:limit], more


async def search_everywhere(
    core: Core, workspace_id: str, scope: Scope | None, q: str, limit: int
) -> SearchResults:
    """Up to `limit` conversations (latest activity first), tickets (newest first) and
    customers (newest first) that `q` finds, each as its own list finds them and as `scope`
    may see them (None: an API token, the whole workspace); a ticket number written "#12"
    searches tickets only. A blank `q` is a 422 on `q`."""
    text = unicodedata.normalize("NFKC", q).strip()
    if not text:
        raise InvalidInput("type something to search for", field="q")
    if len(text) > Q_MAX:  # NFKC may lengthen it ("㍿" is four characters)
        raise InvalidInput(f"search for at most {Q_MAX} characters", field="q")
    numbered = _NUMBERED.fullmatch(text)
    conversations: list[Conversation] = []
    customers: list[Customer] = []
    more_conversations = more_customers = None
    if numbered:
        tickets, more_tickets = await _tickets(core, workspace_id, scope, text, limit)
    else:
        (
            (conversations, more_conversations),
            (tickets, more_tickets),
            (customers, more_customers),
        ) = await asyncio.gather(
            _conversations(core, workspace_id, scope, text, limit),
            _tickets(core, workspace_id, scope, text, limit),
            _customers(core, workspace_id, scope, text, limit),
        )
    found = [c.id for c in conversations]
    names, matched = await asyncio.gather(
        customers_by_id(core, [c.customer_id for c in conversations]),
        matched_snippets(core, found, text),
    )
    return SearchResults(
        q=text,
        conversations=[_conversation_hit(c, names, matched) for c in conversations],
        tickets=[_ticket_hit(t) for t in tickets],
        customers=[_customer_hit(c) for c in customers],
        more=More(
            conversations=more_conversations is not None,
            tickets=more_tickets is not None,
            customers=more_customers is not None,
        ),
        ticket_number=int(numbered.group(1)) if numbered else None,
    )


@router.get("/search", response_model=SearchResults)
async def search(
    core: CoreDep, workspace_id: WorkspaceDep, q: SearchText, limit: SearchLimit = 5
) -> SearchResults:
    """A few conversations, tickets and customers that `q` finds, each group as its own list
    (`/conversations`, `/tickets`, `/customers` with `q`) finds them; `more` says which
    groups hold more."""
    return await search_everywhere(core, workspace_id, None, q, limit)
