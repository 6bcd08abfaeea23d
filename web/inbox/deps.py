"""Who is asking: the session cookie, its CSRF token, and the reader's scope.

Every state-changing request under `/app` must carry the session's CSRF token (header
`X-CSRF-Token`, or a `csrf` form field); the cookie alone never suffices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from kith.connectors.base import current_core
from kith.core.context import Core
from kith.core.errors import Forbidden, Unauthorized
from kith.core.models import User
from kith.core.permissions import Scope, scope_with_teams
from kith.core.sessions import (
    IDLE_TIMEOUT,
    Session,
    Subquery,
    check_password_changed,
    load_session,
    load_session_with,
)

SESSION_COOKIE = "kith_session"
CSRF_HEADER = "x-csrf-token"
CoreDep = Annotated[Core, Depends(current_core)]
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(IDLE_TIMEOUT.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


@dataclass(frozen=True)
class Agent:
    """The signed-in user of one request, with what they may see."""

    session: Session
    scope: Scope

    @property
    def user(self) -> User:
        return self.session.user


async def optional_session(request: Request, core: CoreDep) -> Session | None:
    """The page's session, if any; a user who must first choose a password is sent to My
    account (`PasswordChangeRequired`) from every other page."""
    session = await load_session(core, request.cookies.get(SESSION_COOKIE))
    if session is not None:
        check_password_changed(session, request.method, request.url.path)
    return session


async def agent_with(
    request: Request, core: Core, also: Mapping[str, Subquery]
) -> tuple[Agent, dict[str, list[dict[str, Any]]]]:
    """`current_agent`, plus the documents of `also`, read in the session's round trip."""
    session, found = await load_session_with(core, request.cookies.get(SESSION_COOKIE), also)
    if session is None:
        raise Unauthorized("sign in first", code="not_signed_in")
    if request.method in UNSAFE and not session.csrf_matches(request.headers.get(CSRF_HEADER)):
        raise Forbidden("missing or wrong CSRF token", code="csrf")
    check_password_changed(session, request.method, request.url.path)
    return Agent(session, scope_with_teams(session.user, session.teams)), found


async def current_agent(request: Request, core: CoreDep) -> Agent:
    """The session's user (401 without one); unsafe methods also need the CSRF token."""
    return (await agent_with(request, core, {}))[0]


AgentDep = Annotated[Agent, Depends(current_agent)]
