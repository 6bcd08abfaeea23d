"""Helpers every connector shares: reaching `Core` from a route, reading bearer secrets."""

from __future__ import annotations

from fastapi import Request

from kith.core.context import Core
from kith.core.errors import Unauthorized


def current_core(request: Request) -> Core:
    """The application's `Core`, set on `app.state` by the app factory."""
    core: Core = request.app.state.core
    return core


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token", field="Authorization")
    return token.strip()
