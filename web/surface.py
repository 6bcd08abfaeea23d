"""Kith's routes as one FastAPI app, assembled once per process for a set of features.

FastAPI prepares an app's routes (each parameter's and answer's validator) when the app
first matches a request: most of a second of CPU for Kith's ~350 routes. A server pays it
once; a test suite that built an app per test paid it per test, about half the CPU of its
API tests (`bench/app_start.py`). So the routes hold no `Core`: `kith.web.app.create_app`
puts this shared app inside one of its own (lifespan, middleware, `app.state.core`), which
hands each request its core in the ASGI scope (`kith.connectors.base.current_core`).
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from kith.bots.flows import StepType, StepTypes
from kith.connectors.base import CORE_SCOPE_KEY, current_core
from kith.contacts import api as contacts_api
from kith.core.context import Core
from kith.web.api import (
    bots,
    channels,
    consumers,
    conversations,
    customers,
    dead_letters,
    jobs,
    merges,
    search,
    tokens,
)
from kith.web.api.known_query import refuse_unknown_query
from kith.web.errors import install_error_handlers

API_ROUTERS = (
    channels.router,
    merges.router,  # before customers': its fixed paths would read as customer ids
    contacts_api.router,  # before customers': `/customers/export.csv` is not an id
    customers.router,
    jobs.router,
    conversations.router,
    consumers.router,
    tokens.router,
    dead_letters.router,
    search.router,
)
KEPT = 4  # sets of features with their app ready; tests install a few different sets

# Keyed by the identities of what the app was built from; the value keeps those objects
# alive, so no identity is reused while its app is kept.
_built: OrderedDict[tuple[int, ...], tuple[tuple[object, ...], FastAPI]] = OrderedDict()


def routes_app(
    core: Core, steps: Sequence[StepType[Any]], extra: Sequence[APIRouter] = ()
) -> FastAPI:
    """The app serving every route of `core`'s features and channels, with bots taking
    `steps`, and `extra` routers last: built on the first call for that set, the same app
    afterwards."""
    parts: tuple[object, ...] = (
        *steps,
        *extra,
        *(router for feature in core.features for router in feature.routers),
        *(channel.router for channel in core.channels if channel.router is not None),
    )
    key = tuple(map(id, parts))
    if key in _built:
        _built.move_to_end(key)
        return _built[key][1]
    app = _build(core, steps, extra)
    _built[key] = (parts, app)
    while len(_built) > KEPT:
        _built.popitem(last=False)
    return app


def _build(core: Core, steps: Sequence[StepType[Any]], extra: Sequence[APIRouter]) -> FastAPI:
    app = FastAPI(
        title="Kith",
        version="0.1.0",
        description="Social CRM: every channel in one inbox, bots, sentiment and sequences.",
        dependencies=[Depends(refuse_unknown_query)],
    )
    app.state.bot_steps = StepTypes(list(steps))  # the admin editor's
    install_error_handlers(app)
    for router in (*API_ROUTERS, bots.build_router(steps)):
        app.include_router(router, prefix="/api/v1")
    for feature in core.features:
        for router in feature.routers:
            app.include_router(router)
    for channel_type in core.channels:
        if channel_type.router is not None:
            app.include_router(channel_type.router)
    for router in extra:
        app.include_router(router)
    app.get("/healthz", tags=["operations"])(healthz)
    app.get("/metrics", tags=["operations"], include_in_schema=False)(metrics)
    return app


async def healthz(request: Request, response: Response) -> dict[str, object]:
    core = current_core(request)
    ok = await core.store.ping()
    response.status_code = 200 if ok else 503
    return {
        "status": "ok" if ok else "degraded",
        "database": {"ok": ok, "embedded": core.store.embedded},
    }


async def metrics(request: Request) -> Response:
    """Prometheus figures, for the scraper holding `KITH_METRICS_TOKEN` only (route names,
    queue sizes and error rates tell an attacker too much); unset: no endpoint."""
    expected = current_core(request).settings.metrics_token
    if not _token_matches(expected, request):
        return Response(status_code=404 if not expected else 401)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _token_matches(expected: str | None, request: Request) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


class WithCore:
    """`app`, handed `core` with every request and websocket (in the scope)."""

    def __init__(self, app: ASGIApp, core: Core) -> None:
        self.app = app
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[CORE_SCOPE_KEY] = self.core
        await self.app(scope, receive, send)
