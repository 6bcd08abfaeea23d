"""The search across everything: the header's box (`page_base.html`) opens `/app/search?q=…`,
a page of three groups (conversations, tickets, customers) with their counts and a link into
each list filtered by the same words; `/app/api/search` answers the same as JSON for the
signed-in user. Both are `kith.web.api.search.search_everywhere` with the reader's own scope.

The page is written on the server (Jinja escapes every customer's words); its script only
moves the focus through the results with the arrow keys, and fills a list's search box when
a "see all" link opens it (`search_box.js`, on every page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kith.core.permissions import scope_with_teams
from kith.web.api.search import Q_MAX, SearchLimit, SearchResults, SearchText, search_everywhere
from kith.web.inbox.deps import AgentDep, CoreDep, optional_session
from kith.web.inbox.nav import may_open
from kith.web.inbox.pages import page_context, render, static_file

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
STATIC = {"search_box.js": "text/javascript", "search.css": "text/css"}
PAGE_LIMIT = 5  # results per group on the page; "see all" opens the list


def _see_all(role: str, q: str) -> dict[str, str | None]:
    """Each group's list filtered by `q`, where the reader's role opens that list (a
    marketer has no inbox of their own: its link would land them on Contacts)."""
    return {
        "conversations": "/app?" + urlencode({"q": q, "status": "any"})
        if may_open(role, "inbox")
        else None,
        "tickets": "/app/tickets?" + urlencode({"q": q}) if may_open(role, "tickets") else None,
        "customers": "/app/contacts?" + urlencode({"q": q}),
    }


@router.get("/app/search")
async def search_page(request: Request, core: CoreDep) -> Response:
    """The page; `q` (1 to 200 characters) as the header's form sends it. A `q` that is no
    search (blank, too long) shows the box again with why, as a form would."""
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    context: dict[str, Any] = await page_context(request, core, session)
    q = request.query_params.get("q", "")
    found: SearchResults | None = None
    error: str | None = None
    if len(q) > Q_MAX:
        error = context["t"]["find_too_long"].replace("{max}", str(Q_MAX))
    elif q.strip():
        scope = scope_with_teams(session.user, session.teams)
        found = await search_everywhere(core, session.user.workspace_id, scope, q, PAGE_LIMIT)
    return render(
        "search.html",
        **context,
        section="search",
        q=q,
        found=found,
        error=error,
        see_all=_see_all(session.user.role, q.strip()),
    )


@router.get("/app/api/search", response_model=SearchResults)
async def search_json(
    agent: AgentDep, core: CoreDep, q: SearchText, limit: SearchLimit = PAGE_LIMIT
) -> SearchResults:
    """What the page shows, as JSON: each group as the signed-in user sees its list."""
    return await search_everywhere(core, agent.user.workspace_id, agent.scope, q, limit)


@router.get("/app/search/static/{name}")
async def static(name: str) -> Response:
    media = STATIC.get(name)
    return static_file(_HERE / "static" / name if media else None, media)
