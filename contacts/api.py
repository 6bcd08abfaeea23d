"""`/api/v1/customers`: create one, import a CSV file (as a job), export as CSV.

Included before the routes of `/customers/{customer_id}`, so `export.csv` is not read as an id.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from kith.contacts.create import CustomerCreate, do_create_customer
from kith.contacts.export import stream_csv
from kith.contacts.imports import ImportOptions, start_import
from kith.core.errors import InvalidInput, all_refused
from kith.segments.filters import parse_json, to_query
from kith.web.api.customers import FILTER_HELP, FILTER_MAX, customer_out, search_filter
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.jobs import JobOut, job_out
from kith.web.api.schemas import CustomerOut

router = APIRouter(prefix="/customers", tags=["customers"])

MAPPING_HELP = (
    'Column header → field, as JSON: {"E-mail": "email", "城市": "attributes.city", '
    '"Opt-in": "consent.email"}. Fields: name, email, phone, external_id, locale, timezone, '
    "tags, attributes.<key>, consent.<channel type>. Left out: columns named like a field."
)
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("", response_model=CustomerOut, status_code=201)
async def create(body: CustomerCreate, core: CoreDep, workspace_id: WorkspaceDep) -> CustomerOut:
    """Create a customer. An email, phone or identity another customer has: 409 naming it."""
    return customer_out(await do_create_customer(core, workspace_id, body))


def _mapping(raw: str | None) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidInput("mapping is not JSON", field="mapping") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidInput('mapping is an object: {"column": "field", …}', field="mapping")
    return value


@router.post("/import", response_model=JobOut, status_code=202, openapi_extra=IMPORT_BODY)
async def import_csv(
    request: Request,
    response: Response,
    core: CoreDep,
    workspace_id: WorkspaceDep,
    mapping: Annotated[str | None, Query(max_length=20_000, description=MAPPING_HELP)] = None,
    tag_separator: Annotated[str | None, Query(min_length=1, max_length=4)] = None,
    encoding: Annotated[str | None, Query(max_length=32)] = None,
) -> JobOut:
    """Import customers from the CSV file sent as the body (`Content-Type: text/csv`; any
    charset, detected unless `encoding` names it). Answers the queued job: follow it at
    `GET /api/v1/jobs/{id}` (progress, counts, per-row errors)."""
    data = await request.body()
    if not data:
        raise InvalidInput("send the CSV file as the request body", field="file")
    try:
        options = ImportOptions(
            mapping=_mapping(mapping), tag_separator=tag_separator, encoding=encoding
        )
    except ValidationError as exc:
        raise all_refused(exc.errors()) from None
    job = await start_import(core, workspace_id, data, options)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job_out(job)


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_csv(
    core: CoreDep,
    workspace_id: WorkspaceDep,
    q: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    filter: Annotated[str | None, Query(max_length=FILTER_MAX, description=FILTER_HELP)] = None,
) -> StreamingResponse:
    """The customers a search (`q`) and a segment filter select, as a CSV file."""
    parts: list[dict[str, Any]] = []
    if q:
        parts.append(search_filter(q))
    if filter:
        parts.append(to_query(parse_json(filter), core.clock.now()))
    query = {"$and": parts} if parts else {}
    stamp = core.clock.now().strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        (piece.encode() async for piece in stream_csv(core, workspace_id, query)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="customers-{stamp}.csv"'},
    )
