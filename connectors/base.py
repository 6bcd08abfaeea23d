"""Helpers every connector shares: reaching `Core` from a route, reading bearer secrets."""

from __future__ import annotations

from fastapi import Request
from starlette.requests import HTTPConnection

from kith.core.context import Core
from kith.core.errors import Unauthorized

CORE_SCOPE_KEY = "kith.core"


def current_core(request: HTTPConnection) -> Core:
    """The `Core` of the app serving this request, handed in its scope (`kith.web.surface`:
    the routes are shared by every app of the process)."""
    core: Core = request.scope[CORE_SCOPE_KEY]
    return core


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token", field="Authorization")
    return token.strip()
