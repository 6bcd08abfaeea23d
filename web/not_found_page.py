"""A browser that opens an /app address with nothing behind it (a mistyped path, a deleted
broadcast) gets a page in the user's language with a way back, not the JSON an API client
gets: the error handlers ask `wants_page` first. `/app/api/` and every other client keep JSON.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from kith.connectors.base import current_core
from kith.core.sessions import load_session
from kith.web.inbox.deps import SESSION_COOKIE
from kith.web.inbox.i18n import messages, pick_locale
from kith.web.inbox.pages import page_context, render


def wants_page(request: Request) -> bool:
    """A browser navigating (GET, accepting HTML) to an /app page, not the app's JSON API."""
    path = request.url.path
    return (
        request.method in ("GET", "HEAD")
        and path.startswith("/app/")
        and not path.startswith("/app/api/")
        and "text/html" in request.headers.get("accept", "")
    )


async def not_found_page(request: Request) -> HTMLResponse:
    """The 404 page: in the pages' look for a signed-in user (their own language setting
    first), else in the sign-in page's look by `?lang=` or the browser's language."""
    core = current_core(request)
    session = await load_session(core, request.cookies.get(SESSION_COOKIE))
    if session is not None:
        return render("not_found.html", 404, **await page_context(request, core, session))
    locale = pick_locale(request.query_params.get("lang"), request.headers.get("accept-language"))
    return render("not_found_public.html", 404, t=messages(locale), locale=locale)
