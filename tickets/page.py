"""The Tickets pages: `/app/tickets` (a filtered list, and a board by status where an agent
moves a ticket by keyboard or mouse) and `/app/tickets/{id}` (one ticket: its controls, SLA
clocks, the linked conversation with a reply box, satisfaction and timeline), plus the inbox
panel's script. The HTML is a shell in the shared look; the scripts read and write
`/app/api/tickets`, so the server's rules (who sees which ticket, which moves are allowed)
are the only ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.permissions import scope_with_teams
from kith.core.sessions import Session
from kith.tickets.models import MOVES, PRIORITIES, Status
from kith.tickets.store import get_ticket
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.pages import SECURITY_HEADERS, page_context, page_templates, static_file

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
templates = page_templates(_HERE / "templates")


def quoted_parts(text: str) -> list[tuple[bool, str]]:
    """A description as runs of lines, each quoted (`> `, as a ticket opened from a
    conversation quotes its messages) or not, the marks taken off: the page shows a quote as
    a quote, not as lines starting with ">"."""
    parts: list[tuple[bool, list[str]]] = []
    for line in text.split("\n"):
        quoted = line.startswith(">")
        kept = line[2:] if line.startswith("> ") else line[1:] if quoted else line
        if parts and parts[-1][0] == quoted:
            parts[-1][1].append(kept)
        else:
            parts.append((quoted, [kept]))
    return [(quoted, "\n".join(lines)) for quoted, lines in parts]


templates.globals["quoted_parts"] = quoted_parts
STATIC = {
    "ticket_words.js": "text/javascript",
    "tickets.js": "text/javascript",
    "ticket.js": "text/javascript",
    "ticket_reply.js": "text/javascript",
    "ticket_merge.js": "text/javascript",
    "inbox_tickets.js": "text/javascript",
    "customer_tickets.js": "text/javascript",  # the customer page's Tickets
    "tickets.css": "text/css",
    "reports.css": "text/css",  # the reports page (kith.tickets.reports_page)
}
# The board's columns, in the order work flows; closed tickets are only in the list.
BOARD = (Status.new, Status.open, Status.pending, Status.on_hold, Status.solved)


def _shapes() -> dict[str, Any]:
    """What the scripts need to know of the model: statuses, priorities, allowed moves."""
    return {
        "statuses": [s.value for s in Status],
        "board": [s.value for s in BOARD],
        "priorities": [p.value for p in PRIORITIES],
        # Each status's moves in the order work flows (the board's), not alphabetical.
        "moves": {s.value: [m.value for m in Status if m in MOVES[s]] for s in Status},
    }


async def _context(request: Request, core: Core, session: Session) -> dict[str, Any]:
    scope = scope_with_teams(session.user, session.teams)
    return {
        **await page_context(request, core, session),
        "section": "tickets",
        "can_write": scope.can_write,
        "shapes": _shapes(),
    }


def _render(name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    html = templates.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


@router.get("/app/tickets")
async def tickets_page(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    return _render("tickets.html", await _context(request, core, session))


@router.get("/app/tickets/static/{name}")
async def static(name: str) -> Response:
    media = STATIC.get(name)
    return static_file(_HERE / "static" / name if media else None, media)


@router.get("/app/tickets/{ticket_id}")
async def ticket_page(ticket_id: str, request: Request, core: CoreDep) -> Response:
    """One ticket, or 404 when it does not exist for this user (another team's)."""
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    context = await _context(request, core, session)
    scope = scope_with_teams(session.user, session.teams)
    try:
        ticket = await get_ticket(core, session.user.workspace_id, ticket_id, scope)
    except NotFound:
        return _render("ticket.html", {**context, "ticket": None}, 404)
    return _render("ticket.html", {**context, "ticket": ticket})
