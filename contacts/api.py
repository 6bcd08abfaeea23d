"""`/api/v1/customers`: create one, import a CSV file or an Excel workbook (as a job), export
as CSV or as an Excel workbook.

Included before the routes of `/customers/{customer_id}`, so `export.csv` is not read as an id.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.background import BackgroundTask

from kith.connectors.base import bearer_token
from kith.contacts.create import CustomerCreate, do_create_customer
from kith.contacts.csvfile import too_large
from kith.contacts.export import stream_csv
from kith.contacts.imports import ImportOptions, start_import
from kith.contacts.mapping import SIMPLE_TARGETS, guess_columns
from kith.contacts.tables import XLSX_TYPE, FileFormat, format_of_type, read_header
from kith.contacts.xlsx_export import write_xlsx
from kith.core.api_tokens import token_access
from kith.core.csv_text import CSV_RESPONSES, csv_download
from kith.core.errors import InvalidInput, all_refused
from kith.core.events import SYSTEM
from kith.core.models import Author, AuthorKind
from kith.core.sessions import load_session
from kith.segments.filters import parse_json, to_query
from kith.web.api.customers import FILTER_HELP, FILTER_MAX, customer_out, search_filter
from kith.web.api.deps import SESSION_COOKIE, CoreDep, WorkspaceDep
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
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in ("text/csv", XLSX_TYPE)
        },
    }
}


class ImportColumn(BaseModel):
    """A column of the file: the field an import without a mapping fills from it, or why it
    is left out (`code`, `message`, as the job's warnings say)."""

    index: int
    header: str
    target: str | None
    code: str | None = None
    message: str | None = None


class ImportPreview(BaseModel):
    """What `preview=true` answers: the file's charset and columns, and the fields a
    mapping may name besides `attributes.<key>`."""

    encoding: str
    columns: list[ImportColumn]
    targets: list[str]


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


async def _importer(request: Request, core: CoreDep, workspace_id: WorkspaceDep) -> Author:
    """Whom the import's changes are recorded as in the customers' timelines: the API token
    by name (as a merge through the API is), or the admin or marketer who uploaded the file
    on the Contacts page. Resolved after `WorkspaceDep` has let the request in."""
    if "authorization" in request.headers:
        token = await token_access(core, bearer_token(request), request.method)
        return Author(kind=AuthorKind.system, id=token.id, name=f"API token {token.name}")
    session = await load_session(core, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return SYSTEM
    return Author(kind=AuthorKind.agent, id=session.user.id, name=session.user.name)


@router.post(
    "/import",
    response_model=JobOut | ImportPreview,
    status_code=202,
    openapi_extra=IMPORT_BODY,
    responses={200: {"model": ImportPreview, "description": "With `preview=true`."}},
)
async def import_csv(
    request: Request,
    response: Response,
    core: CoreDep,
    workspace_id: WorkspaceDep,
    actor: Annotated[Author, Depends(_importer)],
    mapping: Annotated[str | None, Query(max_length=20_000, description=MAPPING_HELP)] = None,
    tag_separator: Annotated[str | None, Query(min_length=1, max_length=4)] = None,
    encoding: Annotated[str | None, Query(max_length=32)] = None,
    preview: bool = False,
) -> JobOut | ImportPreview:
    """Import customers from the CSV file sent as the body (`Content-Type: text/csv`; any
    charset, detected unless `encoding` names it), or from an Excel workbook's first sheet
    (`Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`,
    an .xlsx file; cells read as Excel shows them). Answers the queued job: follow it at
    `GET /api/v1/jobs/{id}` (progress, counts, per-row errors). With `preview=true`, imports
    nothing and answers (200) the file's columns, each with the field it would fill (the
    Contacts page's mapping step)."""
    data = await request.body()
    if not data:
        raise InvalidInput("send the CSV or .xlsx file as the request body", field="file")
    file_format = format_of_type(request.headers.get("content-type"))
    if preview:
        response.status_code = 200
        return await _preview(core, data, file_format, encoding)
    try:
        options = ImportOptions(
            mapping=_mapping(mapping),
            tag_separator=tag_separator,
            encoding=encoding,
            file_format=file_format,
        )
    except ValidationError as exc:
        raise all_refused(exc.errors()) from None
    job = await start_import(core, workspace_id, data, options, actor)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job_out(job)


async def _preview(
    core: CoreDep, data: bytes, file_format: FileFormat, encoding: str | None
) -> ImportPreview:
    limit = core.settings.import_max_bytes
    if len(data) > limit:
        raise too_large(limit)
    header, used = await asyncio.to_thread(read_header, data, file_format, encoding, limit)
    types = sorted(core.channels.names())
    columns = [
        ImportColumn(
            index=index,
            header=name,
            target=target,
            code=why.code if why else None,
            message=why.message if why else None,
        )
        for index, name, target, why in guess_columns(header, types)
    ]
    targets = [*SIMPLE_TARGETS, *(f"consent.{t}" for t in types)]
    return ImportPreview(encoding=used, columns=columns, targets=targets)


ExportQuery = Annotated[str | None, Query(min_length=1, max_length=256)]
ExportFilter = Annotated[str | None, Query(max_length=FILTER_MAX, description=FILTER_HELP)]


def _export_query(core: CoreDep, q: str | None, filter: str | None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if q:
        parts.append(search_filter(q))
    if filter:
        parts.append(to_query(parse_json(filter), core.clock.now()))
    return {"$and": parts} if parts else {}


def _filename(core: CoreDep, suffix: str) -> str:
    return f"customers-{core.clock.now().strftime('%Y%m%d-%H%M')}.{suffix}"


@router.get("/export.csv", response_class=StreamingResponse, responses=CSV_RESPONSES)
async def export_csv(
    core: CoreDep,
    workspace_id: WorkspaceDep,
    q: ExportQuery = None,
    filter: ExportFilter = None,
) -> StreamingResponse:
    """The customers a search (`q`) and a segment filter select, as a CSV file."""
    query = _export_query(core, q, filter)
    return csv_download(stream_csv(core, workspace_id, query), _filename(core, "csv"))


@router.get(
    "/export.xlsx",
    response_class=FileResponse,
    responses={200: {"content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def export_xlsx(
    core: CoreDep,
    workspace_id: WorkspaceDep,
    q: ExportQuery = None,
    filter: ExportFilter = None,
) -> FileResponse:
    """The customers a search (`q`) and a segment filter select, as an Excel workbook: the
    CSV's columns, every cell text (never a formula)."""
    query = _export_query(core, q, filter)
    path = await write_xlsx(core, workspace_id, query)
    return FileResponse(
        path,
        media_type=XLSX_TYPE,
        filename=_filename(core, "xlsx"),
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
