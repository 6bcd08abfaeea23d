"""`/api/v1/segments`: create, list, read, change and delete segments, page through their
members, preview a filter's count while it is edited, reconcile on demand.

Callers are API tokens (a read-only token reads) or signed-in users of the web app (with the
session's CSRF token for writes): admins and marketers write, agents read.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from kith.connectors.base import bearer_token
from kith.contacts.export import stream_csv
from kith.core.api_tokens import token_access
from kith.core.csv_text import CSV_RESPONSES, csv_download
from kith.core.errors import Forbidden
from kith.core.ids import new_id
from kith.core.models import Customer, Role
from kith.core.pagination import page
from kith.segments.filters import to_query
from kith.segments.history import SizePoint, size_history
from kith.segments.reconcile import fill, reconcile
from kith.segments.records import (
    MAX_NAME,
    MEMBERS,
    SEGMENTS,
    Fixed,
    Segment,
    do_create_segment,
    do_delete_segment,
    do_update_segment,
    get_segment,
    parse_filter,
)
from kith.web.api.deps import CoreDep, Cursor
from kith.web.api.schemas import CustomerOut, Page, Strict
from kith.web.inbox.deps import UNSAFE, current_agent

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])
WRITERS = frozenset({Role.admin, Role.marketer})


async def segment_workspace(request: Request, core: CoreDep) -> str:
    """The caller's workspace: a bearer token's, or the signed-in user's (403 for an agent
    writing)."""
    if request.headers.get("authorization"):
        return (await token_access(core, bearer_token(request), request.method)).workspace_id
    agent = await current_agent(request, core)
    if request.method in UNSAFE and agent.user.role not in WRITERS:
        raise Forbidden("only admins and marketers change segments", code="role")
    return agent.user.workspace_id


WorkspaceDep = Annotated[str, Depends(segment_workspace)]


# Stripped and measured by `records._name` (a blank one refused as `blank`, a long one as
# `string_too_long`) beside the filter's refusals: a `max_length` here refused a long name
# alone, before the rest of the form was looked at. The limit is still documented.
SegmentName = Annotated[str, Field(json_schema_extra={"maxLength": MAX_NAME})]


class SegmentCreate(Strict):
    name: SegmentName
    filter: Any = Field(description="A filter in the segment language (docs/segments.md).")


class SegmentPatch(Strict):
    name: SegmentName | None = None
    filter: Any = None


class Preview(Strict):
    filter: Any


class PreviewOut(BaseModel):
    count: int | None = Field(description="Customers matching now; null when it timed out.")
    capped: bool = Field(description="The count stopped at the preview limit: at least this.")
    timed_out: bool = False


class SegmentOut(BaseModel):
    id: str
    name: str
    filter: Any
    size: int
    created_at: datetime
    updated_at: datetime
    last_reconciled_at: datetime | None
    fixed: Fixed | None
    filling: bool = Field(default=False, description="Still being filled in the background.")


class ReconcileOut(BaseModel):
    fixed: Fixed
    size: int


def segment_out(segment: Segment, filling: bool = False) -> SegmentOut:
    return SegmentOut(**segment.model_dump(exclude={"workspace_id", "revision"}), filling=filling)


@router.post("", status_code=201, response_model=SegmentOut)
async def create(body: SegmentCreate, core: CoreDep, workspace_id: WorkspaceDep) -> SegmentOut:
    segment = await do_create_segment(core, workspace_id, body.name, body.filter)
    filled = await fill(core, segment)
    return segment_out(await get_segment(core, workspace_id, segment.id), filling=not filled)


@router.get("", response_model=Page[SegmentOut])
async def list_(
    core: CoreDep,
    workspace_id: WorkspaceDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[SegmentOut]:
    docs, next_cursor = await page(
        core.store.collection(SEGMENTS),
        {"workspace_id": workspace_id},
        "_id",
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    return Page(items=[segment_out(Segment.from_doc(d)) for d in docs], next_cursor=next_cursor)


@router.post("/preview", response_model=PreviewOut)
async def preview(body: Preview, core: CoreDep, workspace_id: WorkspaceDep) -> PreviewOut:
    """How many customers a filter selects now, for the live count while editing: the count
    stops at `KITH_SEGMENTS_PREVIEW_LIMIT` and gives up after `KITH_SEGMENTS_PREVIEW_SECONDS`."""
    node = parse_filter(core, body.filter)  # a blank value, as typed so far, counts no one
    query = {
        "$and": [
            {"workspace_id": workspace_id, "merged_into": None},
            to_query(node, core.clock.now()),
        ]
    }
    cap = core.settings.segments_preview_limit
    counting = core.store.customers.count_documents(query, limit=cap)
    try:
        found = await asyncio.wait_for(counting, core.settings.segments_preview_seconds)
    except TimeoutError:
        return PreviewOut(count=None, capped=False, timed_out=True)
    return PreviewOut(count=found, capped=found >= cap)


@router.get("/{segment_id}", response_model=SegmentOut)
async def read(segment_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> SegmentOut:
    return segment_out(await get_segment(core, workspace_id, segment_id))


@router.patch("/{segment_id}", response_model=SegmentOut)
async def change(
    segment_id: str, body: SegmentPatch, core: CoreDep, workspace_id: WorkspaceDep
) -> SegmentOut:
    """A new filter recomputes the membership (as a new segment is filled)."""
    segment = await get_segment(core, workspace_id, segment_id)
    raw = body.filter if "filter" in body.model_fields_set else None
    segment, refiltered = await do_update_segment(core, segment, body.name, raw)
    filled = await fill(core, segment) if refiltered else True
    return segment_out(await get_segment(core, workspace_id, segment_id), filling=not filled)


@router.delete("/{segment_id}", status_code=204)
async def delete(segment_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> Response:
    await do_delete_segment(core, await get_segment(core, workspace_id, segment_id))
    return Response(status_code=204)


@router.get("/{segment_id}/customers", response_model=Page[CustomerOut])
async def members(
    segment_id: str,
    core: CoreDep,
    workspace_id: WorkspaceDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> Page[CustomerOut]:
    """The members, ordered by customer id."""
    segment = await get_segment(core, workspace_id, segment_id)
    rows, next_cursor = await page(
        core.store.collection(MEMBERS),
        {"segment_id": segment.id, "leaving": None},
        "customer_id",
        cursor=cursor,
        limit=limit,
        descending=False,
    )
    ids = [r["customer_id"] for r in rows]
    docs = await core.store.customers.find(
        {"_id": {"$in": ids}, "workspace_id": workspace_id}
    ).to_list(None)
    by_id = {d["_id"]: d for d in docs}
    items = [_customer_out(by_id[i]) for i in ids if i in by_id]
    return Page(items=items, next_cursor=next_cursor)


def _customer_out(doc: dict[str, Any]) -> CustomerOut:
    return CustomerOut.model_validate(Customer.from_doc(doc).model_dump(mode="json"))


@router.get(
    "/{segment_id}/export.csv",
    response_class=StreamingResponse,
    responses=CSV_RESPONSES,
)
async def export_csv(
    segment_id: str, core: CoreDep, workspace_id: WorkspaceDep
) -> StreamingResponse:
    """The segment's customers as a CSV file (as the Contacts export writes it), selected by
    its filter at this moment, so a member the events have not reached yet is included."""
    segment = await get_segment(core, workspace_id, segment_id)
    query = to_query(parse_filter(core, segment.filter), core.clock.now())
    stamp = core.clock.now().strftime("%Y%m%d-%H%M")
    return csv_download(stream_csv(core, workspace_id, query), f"segment-{stamp}.csv")


@router.get("/{segment_id}/sizes", response_model=list[SizePoint])
async def sizes(segment_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> list[SizePoint]:
    """The size over time: one point per hour in which it changed (90 days)."""
    segment = await get_segment(core, workspace_id, segment_id)
    return await size_history(core, segment.id)


@router.post("/{segment_id}/reconcile", response_model=ReconcileOut)
async def reconcile_now(segment_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> ReconcileOut:
    """Check the membership against a full query now; answers what was fixed."""
    segment = await get_segment(core, workspace_id, segment_id)
    fixed = await reconcile(core, segment, f"reconcile:{new_id()}")
    return ReconcileOut(fixed=fixed, size=(await get_segment(core, workspace_id, segment_id)).size)
