"""The Contacts pages (`/app/contacts`, `/app/contacts/{id}`) and their JSON under
`/app/api/contacts`, behind the inbox's session and CSRF rules.

Everyone signed in reads contacts; an agent only those who reach their teams' channels
(`kith.core.scopes`, as the search across everything).
Whoever reads a customer edits their profile (name, emails, phones, locale, time zone,
attributes: `kith.contacts.edit`). Admins and marketers also change tags, merge suggested
customers and undo merges; admins erase a customer (`do_erase_customer`: everything they
said, for good). The search and filters are the REST API's (`kith.web.api.customers`,
`kith.segments.filters`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, computed_field

from kith.contacts.edit import do_edit_profile, parse_edit
from kith.contacts.merges import MergeOut, UndoReport, do_undo_merge, list_merges
from kith.contacts.profile import Profile, TimelineEntry, profile, timeline
from kith.contacts.schemas import MergedOut, SuggestionMerge
from kith.contacts.suggestions import Suggestion, dismiss, list_suggestions, merge_from_suggestion
from kith.core.context import Core
from kith.core.customers import do_erase_customer, do_update_customer, get_customer
from kith.core.errors import Forbidden
from kith.core.models import Customer, Role
from kith.core.pagination import page
from kith.core.permissions import ensure_admin
from kith.core.scopes import customers_visible, ensure_can_read_customer
from kith.segments.filters import parse_json, to_query
from kith.web.api.customers import FILTER_HELP, FILTER_MAX, search_filter
from kith.web.api.deps import Cursor
from kith.web.api.schemas import Erased, Page
from kith.web.inbox.api import author_of
from kith.web.inbox.deps import Agent, AgentDep, CoreDep, optional_session
from kith.web.inbox.nav import manages_contacts
from kith.web.inbox.pages import page_context, render

router = APIRouter(include_in_schema=False)
CONTRACTS = {  # the contacts-data engineer's routes the page links to
    "export": "/api/v1/customers/export.csv",
    "export_xlsx": "/api/v1/customers/export.xlsx",
    "import": "/api/v1/customers/import",
    "jobs": "/api/v1/jobs/",
}


async def _manager(agent: AgentDep) -> Agent:
    if not manages_contacts(agent.user.role):
        raise Forbidden("only admins and marketers change contacts")
    return agent


ManagerDep = Annotated[Agent, Depends(_manager)]


class Contact(Customer):
    """A customer as the Contacts pages and the ticket page show them: with the name the team
    calls them by (`Customer.shown_name`: their name, else first email, then phone, as the
    inbox lists them), None when Kith knows none (the page says "Customer 7F3A")."""

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def shown_name(self) -> str | None:
        return super().shown_name

    @classmethod
    def of(cls, customer: Customer) -> Contact:
        return cls.model_validate(customer.model_dump())


class ContactProfile(Profile):
    customer: Contact


class TagsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=100)


# ---- pages ---------------------------------------------------------------------------------


async def _page(
    request: Request, core: Core, template: str, customer_id: str | None = None
) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    return render(
        template,
        **await page_context(request, core, session),
        section="contacts",
        can_manage=manages_contacts(session.user.role),
        can_erase=session.user.role == Role.admin,
        urls=CONTRACTS,
        customer_id=customer_id,
    )


@router.get("/app/contacts")
async def contacts_page(request: Request, core: CoreDep) -> Response:
    return await _page(request, core, "contacts.html")


@router.get("/app/contacts/{customer_id}")
async def customer_page(customer_id: str, request: Request, core: CoreDep) -> Response:
    return await _page(request, core, "contacts_customer.html", customer_id=customer_id)


# ---- JSON ----------------------------------------------------------------------------------


async def _readable(core: Core, agent: Agent, customer_id: str) -> Customer:
    customer = await get_customer(core, agent.user.workspace_id, customer_id)
    await ensure_can_read_customer(core, agent.scope, customer)
    return customer


@router.get("/app/api/contacts", response_model=Page[Contact])
async def contacts(
    agent: AgentDep,
    core: CoreDep,
    q: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    filter: Annotated[str | None, Query(max_length=FILTER_MAX, description=FILTER_HELP)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Page[Contact]:
    """The REST API's search (`q`) and segment filter, newest customers first."""
    query: dict[str, Any] = {"workspace_id": agent.user.workspace_id, "merged_into": None}
    if q:
        query.update(search_filter(q))
    if filter:
        query = {"$and": [query, to_query(parse_json(filter), core.clock.now())]}
    docs, next_cursor = await page(
        core.store.customers,
        customers_visible(agent.scope, query),
        "_id",
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    return Page(items=[Contact.from_doc(d) for d in docs], next_cursor=next_cursor)


@router.get("/app/api/contacts/merge-suggestions", response_model=Page[Suggestion])
async def suggestions(agent: ManagerDep, core: CoreDep, cursor: Cursor = None) -> Page[Suggestion]:
    items, next_cursor = await list_suggestions(core, agent.user.workspace_id, cursor, 10)
    return Page(items=items, next_cursor=next_cursor)


@router.post("/app/api/contacts/merge-suggestions/{suggestion_id}/merge", response_model=MergedOut)
async def merge(
    suggestion_id: str, body: SuggestionMerge, agent: ManagerDep, core: CoreDep
) -> MergedOut:
    merge_id, survivor = await merge_from_suggestion(
        core,
        agent.user.workspace_id,
        suggestion_id,
        body.survivor_id,
        body.other_id,
        author_of(agent),
    )
    return MergedOut(merge_id=merge_id, survivor_id=survivor.id)


@router.post(
    "/app/api/contacts/merge-suggestions/{suggestion_id}/dismiss", response_model=Suggestion
)
async def dismiss_suggestion(suggestion_id: str, agent: ManagerDep, core: CoreDep) -> Suggestion:
    return await dismiss(core, agent.user.workspace_id, suggestion_id, author_of(agent))


@router.get("/app/api/contacts/merges", response_model=Page[MergeOut])
async def merges(agent: ManagerDep, core: CoreDep, cursor: Cursor = None) -> Page[MergeOut]:
    items, next_cursor = await list_merges(core, agent.user.workspace_id, cursor, 10)
    return Page(items=items, next_cursor=next_cursor)


@router.post("/app/api/contacts/merges/{merge_id}/undo", response_model=UndoReport)
async def undo(merge_id: str, agent: ManagerDep, core: CoreDep) -> UndoReport:
    return await do_undo_merge(core, agent.user.workspace_id, merge_id, author_of(agent))


@router.get("/app/api/contacts/{customer_id}", response_model=ContactProfile)
async def customer(customer_id: str, agent: AgentDep, core: CoreDep) -> ContactProfile:
    found = await _readable(core, agent, customer_id)
    read = await profile(core, found, agent.scope.channel_ids)
    return ContactProfile(**{**dict(read), "customer": Contact.of(read.customer)})


@router.get("/app/api/contacts/{customer_id}/timeline", response_model=Page[TimelineEntry])
async def customer_timeline(
    customer_id: str, agent: AgentDep, core: CoreDep, cursor: Cursor = None
) -> Page[TimelineEntry]:
    found = await _readable(core, agent, customer_id)
    items, next_cursor = await timeline(core, found, agent.scope.channel_ids, cursor, 20)
    return Page(items=items, next_cursor=next_cursor)


@router.patch("/app/api/contacts/{customer_id}", response_model=Contact)
async def change_tags(
    customer_id: str, body: TagsPatch, agent: ManagerDep, core: CoreDep
) -> Contact:
    found = await get_customer(core, agent.user.workspace_id, customer_id)
    tags = {"tags": body.tags}
    return Contact.of(await do_update_customer(core, found, actor=author_of(agent), fields=tags))


@router.patch("/app/api/contacts/{customer_id}/profile", response_model=Contact)
async def edit_profile(
    customer_id: str,
    body: Annotated[dict[str, Any], Body()],
    agent: AgentDep,
    core: CoreDep,
) -> Contact:
    """Edit the profile of a customer the agent can read (`kith.contacts.edit.ProfileEdit`):
    every bad field in one 422, an address another customer has a 409 naming them."""
    found = await _readable(core, agent, customer_id)
    edit = parse_edit(core, body)
    return Contact.of(await do_edit_profile(core, found, edit, author_of(agent)))


@router.delete("/app/api/contacts/{customer_id}", response_model=Erased)
async def erase(customer_id: str, agent: AgentDep, core: CoreDep) -> Erased:
    """Erase the customer on request (admins only: it cannot be undone)."""
    ensure_admin(agent.scope)
    counts = await do_erase_customer(core, agent.user.workspace_id, customer_id, author_of(agent))
    return Erased(deleted=counts)
