"""The Sequences pages: `/app/sequences` (the list with its figures) and
`/app/sequences/{id}` (the step builder, moves, enrolling, enrolments, dry run and the
funnel). The funnel and the days are SVG drawn here from the same stats the API answers
(earlier versions' steps included, labelled as such);
everything else the page's script reads and writes through `/app/api/sequences`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from kith.core.errors import NotFound
from kith.core.sessions import Session
from kith.sequences.api import may_manage
from kith.sequences.charts import days_chart, funnel_chart, funnel_rows
from kith.sequences.models import SendStep
from kith.sequences.schemas import SequenceOut
from kith.sequences.stats import MEASURED, MEASURES, EarlierStep, sequence_stats
from kith.sequences.store import get_sequence
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.i18n import LOCALE_NAMES, messages, pick_locale
from kith.web.inbox.pages import SECURITY_HEADERS, page_templates

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
templates = page_templates(_HERE / "templates")
STATIC = {
    "sequences.js": "text/javascript",
    "builder.js": "text/javascript",
    "operate.js": "text/javascript",
    "sequences.css": "text/css",
}


def earlier_label(step: EarlierStep, t: Mapping[str, str]) -> str:
    """An earlier version's step, named apart: "a (version 1, since changed or removed)"."""
    versions = ", ".join(str(v) for v in step.versions)
    earlier = t["sequences_earlier_version"].format(versions=versions)
    return t["sequences_step_earlier"].format(id=step.step_id, earlier=earlier)


def skipped_text(skipped: Mapping[str, int], t: Mapping[str, str]) -> str:
    """A step's skips: how many, then why, most frequent first ("3 (no consent: 2, daily cap
    reached: 1)"); "0" when none (a blank cell read as "not counted")."""
    total = sum(skipped.values())
    if not total:
        return "0"
    reasons = t["sequences_list_separator"].join(
        t["sequences_reason_count"].format(reason=t.get(f"sequences_reason_{r}", r), n=n)
        for r, n in sorted(skipped.items(), key=lambda item: (-item[1], item[0]))
    )
    return t["sequences_skipped_total"].format(n=total, reasons=reasons)


def counts_note(step_type: str, t: Mapping[str, str]) -> str:
    """What a funnel row counts, said once in its header (to screen readers) instead of in
    each blank cell: nothing (a wait, a branch, an end), only some measures (a goal's
    conversions, a tag's skips), or "" for a send, which counts them all."""
    own = [m for m in MEASURES if m in MEASURED.get(step_type, ())]
    if not own:
        return t["sequences_counts_nothing"]
    if len(own) == len(MEASURES):
        return ""
    names = t["sequences_list_separator"].join(t[f"sequences_{m}"] for m in own)
    return t["sequences_counts_only"].format(measures=names)


async def _context(request: Request, core: Any, session: Session) -> dict[str, Any]:
    doc = await core.store.users.find_one({"_id": session.user.id}, {"locale": 1})
    chosen = request.query_params.get("lang") or (doc or {}).get("locale")
    locale = pick_locale(chosen, request.headers.get("accept-language"))
    return {
        "t": messages(locale),
        "locale": locale,
        "locales": LOCALE_NAMES,
        "user": session.user,
        "csrf": session.csrf_token,
        "allowed": may_manage(session.user),
        "section": "sequences",
    }


def _render(name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    html = templates.get_template(name).render(**context)
    if not context["allowed"]:
        status = 403
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


@router.get("/app/sequences")
async def sequences_page(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    return _render("sequences.html", await _context(request, core, session))


@router.get("/app/sequences/static/{name}")
async def static(name: str) -> Response:
    media = STATIC.get(name)
    if media is None:
        return Response(status_code=404)
    path = _HERE / "static" / name
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})


@router.get("/app/sequences/new")
async def new_page(request: Request, core: CoreDep) -> Response:
    """The builder on an empty draft: saving creates it and moves to its page."""
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    context = await _context(request, core, session)
    return _render("sequence.html", {**context, "sequence": None, "sequence_json": None})


@router.get("/app/sequences/{sequence_id}")
async def sequence_page(sequence_id: str, request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    context = await _context(request, core, session)
    if not context["allowed"]:
        return _render("sequence.html", {**context, "sequence": None, "sequence_json": None})
    try:
        sequence = await get_sequence(core, session.user.workspace_id, sequence_id)
    except NotFound:
        return _render("sequence_missing.html", context, 404)
    stats = await sequence_stats(core, sequence.id)
    t = context["t"]
    sends = [s.id for s in sequence.steps if isinstance(s, SendStep)]
    earlier = [(earlier_label(e, t), e) for e in stats.earlier]
    rows = funnel_rows(stats, sends, [(label, e) for label, e in earlier if e.type == "send"])
    # The enrolled figure heads the totals just above the chart: a bar of it said it twice.
    rows = [row for row in rows if row[1] != "enrolled"]
    return _render(
        "sequence.html",
        {
            **context,
            "sequence": sequence,
            "sequence_json": SequenceOut.of(sequence).model_dump(mode="json", by_alias=True),
            "stats": stats,
            "rows": rows,
            "earlier": earlier,
            "measures": MEASURES,
            "measured": MEASURED,
            "skipped_text": lambda skipped: skipped_text(skipped, t),
            "counts_note": lambda step_type: counts_note(step_type, t),
            "funnel": funnel_chart(rows, t),
            "days": days_chart(stats.daily, t),
        },
    )
