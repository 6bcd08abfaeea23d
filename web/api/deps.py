"""Dependencies shared by the API routes."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Query, Request

from kith.connectors.base import bearer_token, current_core
from kith.core.api_tokens import token_access
from kith.core.context import Core
from kith.core.errors import Forbidden, Unauthorized
from kith.core.models import Role
from kith.core.sessions import load_session

# The few API routes the Contacts page calls with the signed-in session instead of a token
# (a download link and a file upload cannot carry the token): admins and marketers only, and
# an unsafe method needs the session's CSRF token, as under /app.
SESSION_COOKIE = "kith_session"  # kith.web.inbox.deps's (which imports this module)
SESSION_ROUTES = (
    ("GET", re.compile(r"/api/v1/customers/export\.(csv|xlsx)")),
    ("POST", re.compile(r"/api/v1/customers/import")),
    ("GET", re.compile(r"/api/v1/jobs/[^/]+")),
)

CoreDep = Annotated[Core, Depends(current_core)]
# A page cursor from a list answer (`next_cursor`), handed back as it was.
Cursor = Annotated[str | None, Query(max_length=1024)]


async def api_workspace(request: Request, core: CoreDep) -> str:
    """The workspace of the request's API token: 401 without a valid one, 403 when its scope
    does not allow the method (a read-only token writing). On `SESSION_ROUTES`, without a
    token, the signed-in admin's or marketer's workspace."""
    if "authorization" not in request.headers and _session_route(request):
        return await _session_workspace(request, core)
    return (await token_access(core, bearer_token(request), request.method)).workspace_id


def _session_route(request: Request) -> bool:
    path = request.url.path
    return any(request.method == m and pattern.fullmatch(path) for m, pattern in SESSION_ROUTES)


async def _session_workspace(request: Request, core: Core) -> str:
    session = await load_session(core, request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise Unauthorized("missing bearer token or session", field="Authorization")
    if session.user.role not in (Role.admin, Role.marketer):
        raise Forbidden("only admins and marketers export and import contacts")
    if request.method != "GET" and not session.csrf_matches(request.headers.get("x-csrf-token")):
        raise Forbidden("missing or wrong CSRF token", code="csrf")
    return session.user.workspace_id


WorkspaceDep = Annotated[str, Depends(api_workspace)]
