"""`/api/v1/customers/merge-suggestions` and `/api/v1/customers/merges`: customers who share an
email, a phone or a WeChat unionid, merging them (audited) and undoing a merge; and a
customer's timeline. Included before `/customers/{customer_id}` so that these paths win."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from kith.connectors.base import bearer_token
from kith.contacts.merges import MergeOut, UndoReport, do_undo_merge, list_merges
from kith.contacts.profile import TimelineEntry, timeline
from kith.contacts.schemas import MergedOut, SuggestionMerge
from kith.contacts.suggestions import (
    Suggestion,
    dismiss,
    list_suggestions,
    merge_from_suggestion,
)
from kith.core.api_tokens import ApiToken, token_access
from kith.core.customers import get_customer
from kith.core.models import Author, AuthorKind
from kith.web.api.deps import CoreDep, Cursor, WorkspaceDep
from kith.web.api.schemas import Page

router = APIRouter(prefix="/customers", tags=["customers"])
Limit = Annotated[int, Query(ge=1, le=100)]


async def _token(request: Request, core: CoreDep) -> ApiToken:
    return await token_access(core, bearer_token(request), request.method)


TokenDep = Annotated[ApiToken, Depends(_token)]


def _actor(token: ApiToken) -> Author:
    """The audit's "who" for an API call: the token, by id and name."""
    return Author(kind=AuthorKind.system, id=token.id, name=f"API token {token.name}")


@router.get("/merge-suggestions", response_model=Page[Suggestion])
async def suggestions(
    core: CoreDep, workspace_id: WorkspaceDep, cursor: Cursor = None, limit: Limit = 20
) -> Page[Suggestion]:
    """Groups of customers sharing a key, ordered by kind (email, phone, wechat_unionid)."""
    items, next_cursor = await list_suggestions(core, workspace_id, cursor, limit)
    return Page(items=items, next_cursor=next_cursor)


@router.post("/merge-suggestions/{suggestion_id}/merge", response_model=MergedOut)
async def merge(
    suggestion_id: str, body: SuggestionMerge, core: CoreDep, token: TokenDep
) -> MergedOut:
    """Merge `other_id` into `survivor_id`, both holding the suggestion's key; undo with
    `POST /customers/merges/{merge_id}/undo`."""
    merge_id, survivor = await merge_from_suggestion(
        core, token.workspace_id, suggestion_id, body.survivor_id, body.other_id, _actor(token)
    )
    return MergedOut(merge_id=merge_id, survivor_id=survivor.id)


@router.post("/merge-suggestions/{suggestion_id}/dismiss", response_model=Suggestion)
async def dismiss_suggestion(suggestion_id: str, core: CoreDep, token: TokenDep) -> Suggestion:
    """Stop suggesting these customers for this key (a new customer holding it brings the
    suggestion back)."""
    return await dismiss(core, token.workspace_id, suggestion_id, _actor(token))


@router.get("/merges", response_model=Page[MergeOut])
async def merges(
    core: CoreDep, workspace_id: WorkspaceDep, cursor: Cursor = None, limit: Limit = 20
) -> Page[MergeOut]:
    """Every merge, newest first: who, when, from which suggestion, and whether undone."""
    items, next_cursor = await list_merges(core, workspace_id, cursor, limit)
    return Page(items=items, next_cursor=next_cursor)


@router.post("/merges/{merge_id}/undo", response_model=UndoReport)
async def undo(merge_id: str, core: CoreDep, token: TokenDep) -> UndoReport:
    """Restore both customers: the other's profile exactly, every document the merge moved,
    and the survivor's fields the merge changed (those changed since are kept, less what the
    merge brought in). Documents created after the merge stay with the survivor."""
    return await do_undo_merge(core, token.workspace_id, merge_id, _actor(token))


@router.get("/{customer_id}/timeline", response_model=Page[TimelineEntry])
async def customer_timeline(
    customer_id: str,
    core: CoreDep,
    workspace_id: WorkspaceDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[TimelineEntry]:
    """The customer's events, newest first."""
    customer = await get_customer(core, workspace_id, customer_id)
    items, next_cursor = await timeline(core, customer, None, cursor, limit)
    return Page(items=items, next_cursor=next_cursor)
