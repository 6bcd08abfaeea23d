"""The Broadcasts page, `/app/broadcasts`: list, compose, preview, move and stats."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kith.core.models import Role
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.i18n import LOCALE_NAMES, messages, pick_locale
from kith.web.inbox.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/app/broadcasts")
async def broadcasts_page(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    doc = await core.store.users.find_one({"_id": session.user.id}, {"locale": 1})
    chosen = request.query_params.get("lang") or (doc or {}).get("locale")
    locale = pick_locale(chosen, request.headers.get("accept-language"))
    allowed = session.user.role in {Role.admin, Role.marketer}
    return render(
        "broadcasts.html",
        200 if allowed else 403,
        t=messages(locale),
        locale=locale,
        locales=LOCALE_NAMES,
        user=session.user,
        csrf=session.csrf_token,
        allowed=allowed,
    )
