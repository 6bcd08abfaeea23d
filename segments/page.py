"""The Segments page, `/app/segments`: the list with sizes, a builder with a live count, and
each segment's page with its size over time (an SVG drawn here: no charting script) and its
members. Everyone signed in reads; admins and marketers build (the API enforces it)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from kith.core.errors import NotFound
from kith.core.models import Role
from kith.core.sessions import Session
from kith.segments.filters import CORE_FIELDS, OPS, FieldSpec
from kith.segments.history import SizePoint, size_history
from kith.segments.records import get_segment
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.pages import SECURITY_HEADERS, page_context, page_templates, static_file

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
templates = page_templates(_HERE / "templates")
STATIC = {"segments.js": "text/javascript", "segments.css": "text/css"}
CHART_W, CHART_H, PAD = 640, 200, 36


def field_catalog(specs: tuple[FieldSpec, ...]) -> list[dict[str, Any]]:
    """What the builder offers: each field, its kind, its operators and choices."""
    return [
        {
            "name": s.name,
            "kind": s.kind.value,
            "ops": sorted(op.value for op in OPS[s.kind]),
            "choices": list(s.choices),
        }
        for s in specs
    ]


def size_chart(points: list[SizePoint], label: str) -> Markup:
    """The size over time as an SVG line (numbers and dates only reach the markup)."""
    if not points:
        return Markup("")
    sizes = [p.size for p in points]
    top = max(max(sizes), 1)
    span = max(len(points) - 1, 1)
    xy = [
        (PAD + (CHART_W - 2 * PAD) * i / span, CHART_H - PAD - (CHART_H - 2 * PAD) * s / top)
        for i, s in enumerate(sizes)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    first, last = _day(points[0].at), _day(points[-1].at)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in xy[-48:])
    svg = (
        f'<svg class="chart" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
        f'aria-label="{Markup.escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<line x1="{PAD}" y1="{CHART_H - PAD}" x2="{CHART_W - PAD}" y2="{CHART_H - PAD}" '
        f'stroke="#bbb"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{CHART_H - PAD}" stroke="#bbb"/>'
        f'<text x="{PAD - 6}" y="{PAD + 4}" text-anchor="end">{top}</text>'
        f'<text x="{PAD - 6}" y="{CHART_H - PAD + 4}" text-anchor="end">0</text>'
        f'<text x="{PAD}" y="{CHART_H - 10}">{first}</text>'
        f'<text x="{CHART_W - PAD}" y="{CHART_H - 10}" text-anchor="end">{last}</text>'
        f'<polyline points="{line}" fill="none" stroke="#2563eb" stroke-width="2"/>'
        f'<g fill="#2563eb">{dots}</g></svg>'
    )
    return Markup(svg)  # noqa: S704 (built from numbers, dates and an escaped label)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:00")


async def _context(request: Request, core: Any, session: Session) -> dict[str, Any]:
    specs = (*CORE_FIELDS, *(s for f in core.features for s in f.segment_fields))
    return {
        **await page_context(request, core, session),
        "can_write": session.user.role in (Role.admin, Role.marketer),
        "fields_json": json.dumps(field_catalog(specs), ensure_ascii=False),
    }


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = templates.get_template(name).render(section="segments", **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


@router.get("/app/segments")
async def segments_page(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    return _render("segments.html", **await _context(request, core, session))


@router.get("/app/segments/static/{name}")
async def static(name: str) -> Response:
    return static_file(_HERE / "static" / name, STATIC.get(name))


@router.get("/app/segments/{segment_id}")
async def segment_page(segment_id: str, request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    context = await _context(request, core, session)
    try:
        segment = await get_segment(core, session.user.workspace_id, segment_id)
    except NotFound:
        return _render("segment_missing.html", 404, **context)
    chart = size_chart(await size_history(core, segment.id), context["t"]["segments_chart"])
    return _render(
        "segment.html",
        segment=segment,
        chart=chart,
        filter_json=json.dumps(segment.filter, ensure_ascii=False),
        **context,
    )
