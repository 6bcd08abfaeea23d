"""The Webhooks page, `/app/webhooks`, for admins: the endpoints, subscribing one (its secret
shown once), and each endpoint's delivery log with redelivery.

Its template extends the inbox's `page_base.html` (one look); its JSON is `/app/api/webhooks`
(`kith.webhooks.api`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kith.core.models import Role
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.pages import SECURITY_HEADERS, page_context, page_templates, static_file
from kith.webhooks.models import EVENT_TYPES

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
templates = page_templates(_HERE / "templates")


@router.get("/app/webhooks")
async def webhooks_page(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    allowed = session.user.role == Role.admin
    html = templates.get_template("webhooks.html").render(
        **await page_context(request, core, session),
        section="webhooks",
        allowed=allowed,
        event_types=list(EVENT_TYPES),
    )
    return HTMLResponse(html, status_code=200 if allowed else 403, headers=SECURITY_HEADERS)


STATIC = {"webhooks.js": "text/javascript", "webhooks.css": "text/css"}


@router.get("/app/webhooks/static/{name}")
async def static(name: str) -> Response:
    return static_file(_HERE / "static" / name if name in STATIC else None, STATIC.get(name))
