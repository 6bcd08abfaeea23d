"""The ticket reports page, `/app/tickets/reports`: satisfaction and "% SLA met" over the
last 7, 30 or 90 days or over chosen days (`kith.tickets.report_range`), drawn on the server
from the same reads the API answers (`kith.tickets.report_figures`), as the communities page
draws its figures; and the same figures as a CSV file, `/app/tickets/reports.csv`, for the
same range and reader. Admins and agents open both; a marketer, who changes no ticket, gets
the 403 page (or a 403 for the file), and a signed-out reader the login page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from kith.core.context import Core
from kith.core.permissions import WRITERS
from kith.core.sessions import Session
from kith.tickets import report_numbers
from kith.tickets.report_charts import score_bars, sla_bars
from kith.tickets.report_csv import filename, report_csv
from kith.tickets.report_figures import figures
from kith.tickets.report_range import (
    CUSTOM,
    PERIODS,
    Asked,
    Problem,
    ReportRange,
    report_range,
)
from kith.tickets.sla_models import Metric
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.i18n import written_day
from kith.web.inbox.pages import SECURITY_HEADERS, page_context, page_templates

router = APIRouter(include_in_schema=False)
templates = page_templates(Path(__file__).parent / "templates")
PAGE = "/app/tickets/reports"


def _asked(request: Request) -> Asked:
    """The range's fields as sent, by their own names (`from` is no Python parameter)."""
    query = request.query_params
    sent = {name: query.get(name, "").strip() for name in ("from", "to", "shown_from", "shown_to")}
    return Asked(query.get("days"), sent["from"], sent["to"], sent["shown_from"], sent["shown_to"])


def _address(path: str, period: ReportRange, request: Request) -> str:
    """`path` for `period`, in the language the page was asked in (`?lang=`)."""
    lang = request.query_params.get("lang")
    return f"{path}?{urlencode({**period.query(), **({'lang': lang} if lang else {})})}"


def _untidy(request: Request, shown: ReportRange) -> bool:
    """The form sends every field (a period with its date fields, the days shown before):
    the address is tidied (a redirect) to name only what the page shows, to be shared."""
    sent = request.query_params.keys() - {"lang"}
    return bool(sent) and sent != shown.query().keys()


def _messages(problems: list[Problem], t: dict[str, str]) -> dict[str, str]:
    """Each wrong field's message in the page's language, shown next to that field."""
    return {p.field: t[p.key].replace("{n}", report_numbers.whole(p.n)) for p in problems}


def _form(asked: Asked, shown: ReportRange | None, t: dict[str, str]) -> dict[str, Any]:
    """The form's state: the shown range's days in the date fields (a start for choosing
    others), or what was sent when it was wrong."""
    if shown is None:
        return {"days": CUSTOM, "first": asked.first, "last": asked.last}
    words = t["tickets_reports_range"].replace("{from}", written_day(shown.first_day, t))
    return {
        "days": CUSTOM if shown.days is None else shown.days,
        "first": shown.first_day.isoformat(),
        "last": shown.last_day.isoformat(),
        "start": shown.first_day,
        "end": shown.last_day,
        "range_words": words.replace("{to}", written_day(shown.last_day, t)),
    }


def _render(context: dict[str, Any], status: int = 200) -> HTMLResponse:
    html = templates.get_template("reports.html").render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


async def _reader(request: Request, core: Core) -> tuple[Session, dict[str, Any]] | Response:
    """The signed-in reader and the page's context, or the login page for no one."""
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    return session, await page_context(request, core, session)


@router.get(PAGE)
async def reports_page(request: Request, core: CoreDep) -> Response:
    reader = await _reader(request, core)
    if isinstance(reader, Response):
        return reader
    session, context = reader
    t = context["t"]
    context |= {"section": "tickets", "allowed": session.user.role in WRITERS}
    context |= {"periods": PERIODS, "custom": CUSTOM, "metrics": list(Metric)}
    context |= {"n": report_numbers, "errors": {}}
    if not context["allowed"]:
        return _render(context, 403)
    asked = _asked(request)
    shown = report_range(asked, core.clock.now())
    if isinstance(shown, list):
        return _render({**context, **_form(asked, None, t), "errors": _messages(shown, t)}, 400)
    if _untidy(request, shown):
        return RedirectResponse(_address(PAGE, shown, request), status_code=303)
    found = await figures(core, session, shown)
    return _render(
        {
            **context,
            **_form(asked, shown, t),
            "csat": found.csat,
            "sla": found.sla,
            "chart": score_bars(found.csat.total.distribution, t),
            "sla_chart": sla_bars(found.sla.metrics, t),
            "csv_href": _address(PAGE + ".csv", shown, request),
        }
    )


@router.get(PAGE + ".csv")
async def reports_csv(request: Request, core: CoreDep) -> Response:
    """The page's figures as a file; a wrong range is a 400 naming what is wrong."""
    reader = await _reader(request, core)
    if isinstance(reader, Response):
        return reader
    session, context = reader
    t = context["t"]
    if session.user.role not in WRITERS:
        return PlainTextResponse(t["tickets_reports_forbidden"], 403, headers=SECURITY_HEADERS)
    shown = report_range(_asked(request), core.clock.now())
    if isinstance(shown, list):
        words = "\n".join(_messages(shown, t).values())
        return PlainTextResponse(words, 400, headers=SECURITY_HEADERS)
    body = report_csv(await figures(core, session, shown), shown, t)
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="{filename(shown)}"',
    }
    return Response(body.encode(), media_type="text/csv; charset=utf-8", headers=headers)
