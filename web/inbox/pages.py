"""The inbox's HTML side: the login form, logging out, the app page and its static files."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel

from kith.core.client_address import client_address
from kith.core.clock import ScaledClock, aware
from kith.core.context import Core
from kith.core.errors import Unauthorized
from kith.core.login_throttle import TooManyAttempts, minutes_to_wait
from kith.core.realtime import head_cursor
from kith.core.sessions import Session, end_session, log_in
from kith.web.inbox.deps import (
    SESSION_COOKIE,
    CoreDep,
    is_https,
    optional_session,
    set_session_cookie,
)
from kith.web.inbox.i18n import LOCALE_NAMES, messages, pick_locale, written_day
from kith.web.inbox.nav import landing, may_open, sections_for

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
STATIC = {
    name: (_HERE / "static" / name, media)
    for name, media in (
        ("dom.js", "text/javascript"),
        ("inbox.js", "text/javascript"),
        ("inbox_merge.js", "text/javascript"),
        ("inbox_keys.js", "text/javascript"),
        ("inbox.css", "text/css"),
        ("login.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
        ("admin.js", "text/javascript"),
        ("admin_channels.js", "text/javascript"),
        ("admin_accounts.js", "text/javascript"),
        ("admin_channels.css", "text/css"),
        ("admin_hours.js", "text/javascript"),
        ("admin_hours.css", "text/css"),
        ("admin_sla.js", "text/javascript"),
        ("admin_sla.css", "text/css"),
        ("admin.css", "text/css"),
        ("bot_editor.js", "text/javascript"),
        ("bot_editor.css", "text/css"),
        ("contacts.js", "text/javascript"),
        ("contacts_customer.js", "text/javascript"),
        ("contacts.css", "text/css"),
        ("clock.js", "text/javascript"),
        ("user_menu.js", "text/javascript"),
    )
}
LOGIN_CSRF_COOKIE = "kith_login_csrf"


def page_templates(*folders: Path) -> Environment:
    """The pages' Jinja environment: a feature's own template folders first, then the shared
    ones (`page_base.html`, the app navigation), with the globals they need."""
    loader = ChoiceLoader([FileSystemLoader(f) for f in (*folders, _HERE / "templates")])
    environment = Environment(
        loader=loader, autoescape=select_autoescape(default=True, default_for_string=True)
    )
    environment.globals["app_sections"] = sections_for
    environment.globals["when"] = when
    environment.globals["written_day"] = written_day
    return environment


def when(at: datetime | None, *, day: bool = False) -> Markup:
    """A moment on a server-made page: a `<time>` that `dom.js` writes as every page writes
    dates (`KithDom.dateTime`, or `date` with `day`), in the reader's language and time zone;
    until then (or without script) its UTC reading."""
    if at is None:
        return Markup("")
    moment = aware(at)
    shown = moment.strftime("%Y-%m-%d" if day else "%Y-%m-%d %H:%M UTC")
    kind = "date" if day else "datetime"
    return Markup('<time datetime="{}" data-when="{}">{}</time>').format(
        moment.isoformat(), kind, shown
    )


templates = page_templates()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(name: str, status: int = 200, **context: object) -> HTMLResponse:
    html = templates.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _locale(request: Request, user_setting: str | None = None) -> str:
    chosen = request.query_params.get("lang") or user_setting
    return pick_locale(chosen, request.headers.get("accept-language"))


async def page_context(request: Request, core: Core, session: Session) -> dict[str, Any]:
    """What every signed-in page's template needs: its strings in the user's language (`?lang=`,
    else their own setting, else the browser's), the user and the CSRF token."""
    doc = await core.store.users.find_one({"_id": session.user.id}, {"locale": 1})
    locale = _locale(request, (doc or {}).get("locale"))
    return {
        "t": messages(locale),
        "locale": locale,
        "locales": LOCALE_NAMES,
        "user": session.user,
        "csrf": session.csrf_token,
    }


def _login_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    locale = _locale(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        "login.html", status, t=messages(locale), locale=locale, csrf=token, error=error
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path="/app",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    return response


@router.get("/app/login")
async def login_form(request: Request, core: CoreDep) -> Response:
    if await optional_session(request, core) is not None:
        return RedirectResponse("/app", status_code=303)
    return _login_page(request)


@router.post("/app/login")
async def login(request: Request, core: CoreDep) -> Response:
    """A plain form post; its CSRF token is double-submitted (cookie and field)."""
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    t = messages(_locale(request))
    if not cookie or not secrets.compare_digest(cookie, form.get("csrf", "")):
        return _login_page(request, t["error"], status=403)
    address = client_address(request.scope, core.settings.trusted_proxies)
    try:
        token, _ = await log_in(core, form.get("email", ""), form.get("password", ""), address)
    except TooManyAttempts as exc:
        minutes = minutes_to_wait(exc.retry_after)
        said = t["locked_out_minute"] if minutes == 1 else t["locked_out_minutes"]
        page = _login_page(request, said.replace("{minutes}", str(minutes)), status=429)
        page.headers["Retry-After"] = str(int(exc.retry_after) + 1)
        return page
    except Unauthorized as exc:
        why = "account_disabled" if exc.code == "account_disabled" else "wrong_login"
        return _login_page(request, t[why], status=401)
    response = RedirectResponse("/app", status_code=303)  # which lands each role on its page
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/app")
    return response


@router.post("/app/logout")
async def logout(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    supplied = request.headers.get("x-csrf-token") or (form.get("csrf") or [""])[0]
    if session is not None and session.csrf_matches(supplied):
        await end_session(core, request.cookies.get(SESSION_COOKIE))
    elif session is not None:
        return Response("missing or wrong CSRF token", status_code=403)
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/app")
async def inbox_page(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    if not may_open(session.user.role, "inbox") and "conversation" not in request.query_params:
        return RedirectResponse(landing(session.user.role), status_code=303)
    return render(
        "inbox.html",
        section="inbox",
        **await page_context(request, core, session),
        head=await head_cursor(core, session.user.workspace_id) or "",
    )


class ClockOut(BaseModel):
    """Kith's time now and how fast it runs (`speed` 1 unless the demo clock is on)."""

    now: datetime
    speed: float


@router.get("/app/api/clock", response_model=ClockOut)
async def clock(core: CoreDep) -> ClockOut:
    """For the header's demo clock: the page ticks it on from here at `speed`."""
    speed = core.clock.speed if isinstance(core.clock, ScaledClock) else 1.0
    return ClockOut(now=core.clock.now(), speed=speed)


def static_file(path: Path | None, media: str | None) -> Response:
    """A page's script or style, from a fixed list (no path from the URL), revalidated on each
    load so that a new release is picked up at once; 404 for a name not on the list."""
    if path is None or media is None:
        return Response(status_code=404)
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})


@router.get("/app/static/{name}")
async def static(name: str) -> Response:
    path, media = STATIC.get(name, (None, None))
    return static_file(path, media)
