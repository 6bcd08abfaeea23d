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
from kith.orders.money import EXPONENTS
from kith.segments.filters import CORE_FIELDS, OPS, FieldSpec
from kith.segments.history import SizePoint, size_history
from kith.segments.records import get_segment
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.pages import SECURITY_HEADERS, page_context, page_templates, static_file
from kith.web.svg_chart import svg_chart

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
templates = page_templates(_HERE / "templates")
STATIC = {"segments.js": "text/javascript", "segments.css": "text/css"}
CHART_W, CHART_H, PAD = 640, 200, 36
# Fields whose values are ids: the builder offers the workspace's channels and communities
# by name (the filter keeps the ids). Communities are the communities feature's collection,
# read by name here as `records.users_of` reads broadcasts: features import segments. The
# channel types a customer wrote on are picked from the types Kith knows (a typed
# `Telegram` matched no one: they are stored as `telegram`).
PICKED = ("channel_ids", "communities", "channels")
MAX_PICKS = 500
# Fields keyed by a currency and stored in its minor units: the builder shows and takes
# amounts in the currency's units (199.00 CNY), as orders are shown (`kith.orders.money`).
MONEY = ("orders.total.",)


def field_catalog(
    specs: tuple[FieldSpec, ...],
    picks: dict[str, list[dict[str, str]]] | None = None,
    currency: str = "USD",
) -> list[dict[str, Any]]:
    """What the builder offers: each field, its kind, its operators and choices; for an id
    field the ids it may pick with their names, for a money field the currencies with their
    minor-unit exponents and the one offered first."""
    catalog: list[dict[str, Any]] = []
    for s in specs:
        entry: dict[str, Any] = {
            "name": s.name,
            "kind": s.kind.value,
            "ops": sorted(op.value for op in OPS[s.kind]),
            "choices": list(s.choices),
        }
        if picks is not None and s.name in PICKED:
            entry["picks"] = picks.get(s.name, [])
        if s.name in MONEY:
            entry["money"] = {"exponents": EXPONENTS, "currency": currency}
        catalog.append(entry)
    return catalog


async def _picks(core: Any, workspace_id: str) -> dict[str, list[dict[str, str]]]:
    """The workspace's channels (in the order they were added) and communities (by title),
    each as its id and the name people know it by; the channel types Kith knows."""
    scope = {"workspace_id": workspace_id}
    channels = core.store.channels.find(scope, {"name": 1, "type": 1}).sort("created_at", 1)
    groups = core.store.collection("communities").find(scope, {"title": 1, "channel_type": 1})
    named_channels = [
        {"id": d["_id"], "name": f"{d.get('name') or d['_id']} ({d.get('type', '')})"}
        for d in await channels.to_list(MAX_PICKS)
    ]
    named_groups = sorted(
        (
            {"id": d["_id"], "name": f"{d.get('title') or d['_id']} ({d.get('channel_type', '')})"}
            for d in await groups.to_list(MAX_PICKS)
        ),
        key=lambda g: g["name"].casefold(),
    )
    types = [{"id": name, "name": name} for name in core.channels.names()]
    return {"channel_ids": named_channels, "communities": named_groups, "channels": types}


async def _currency(core: Any, workspace_id: str) -> str:
    """The currency of the workspace's latest order, the one its marketers most likely mean."""
    latest = core.store.collection("orders").find({"workspace_id": workspace_id}, {"currency": 1})
    docs = await latest.sort("_id", -1).limit(1).to_list(1)
    found = docs[0].get("currency") if docs else None
    return found if found in EXPONENTS else "USD"


def size_chart(points: list[SizePoint], t: dict[str, str]) -> Markup:
    """The size over time as an SVG line (numbers and dates only reach the markup), described
    in words by its first and last sizes and its largest."""
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
    parts = (
        f'<line x1="{PAD}" y1="{CHART_H - PAD}" x2="{CHART_W - PAD}" y2="{CHART_H - PAD}" '
        f'stroke="#bbb"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{CHART_H - PAD}" stroke="#bbb"/>'
        f'<text x="{PAD - 6}" y="{PAD + 4}" text-anchor="end">{top}</text>'
        f'<text x="{PAD - 6}" y="{CHART_H - PAD + 4}" text-anchor="end">0</text>'
        f'<text x="{PAD}" y="{CHART_H - 10}">{first}</text>'
        + (  # one point (or one hour): its time once, not at both ends (qa11 m4)
            f'<text x="{CHART_W - PAD}" y="{CHART_H - 10}" text-anchor="end">{last}</text>'
            if last != first
            else ""
        )
        + f'<polyline points="{line}" fill="none" stroke="#2563eb" stroke-width="2"/>'
        f'<g fill="#2563eb">{dots}</g>'
    )
    desc = t["segments_chart_desc" if last != first else "segments_chart_desc_one"].format(
        start=first, end=last, first=sizes[0], last=sizes[-1], top=max(sizes)
    )
    return svg_chart("size-chart", (CHART_W, CHART_H), t["segments_chart"], desc, [parts])


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:00")


async def _context(request: Request, core: Any, session: Session) -> dict[str, Any]:
    specs = (*CORE_FIELDS, *(s for f in core.features for s in f.segment_fields))
    workspace_id = session.user.workspace_id
    catalog = field_catalog(
        specs, await _picks(core, workspace_id), await _currency(core, workspace_id)
    )
    return {
        **await page_context(request, core, session),
        "can_write": session.user.role in (Role.admin, Role.marketer),
        "fields": catalog,  # names people typed: `tojson` escapes them for the script tag
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
    chart = size_chart(await size_history(core, segment.id), context["t"])
    return _render(
        "segment.html",
        segment=segment,
        chart=chart,
        filter_json=json.dumps(segment.filter, ensure_ascii=False),
        **context,
    )
