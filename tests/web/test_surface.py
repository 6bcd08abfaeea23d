"""Apps in one process share their routes (FastAPI prepares routes once per app, most of a
second of CPU for Kith's), yet each request reaches its own app's core; an app with other
features serves its own routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from asgi_lifespan import LifespanManager
from prometheus_client import REGISTRY
from starlette.applications import Starlette

from kith.core.api_tokens import create_api_token
from kith.core.context import Core
from kith.core.features import install
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import BASE_FEATURES, bot_step_types, build_core, create_app
from kith.web.surface import routes_app
from tests.support.cores import own_database, started


@contextlib.asynccontextmanager
async def other_core(settings: Settings, *, every_feature: bool) -> AsyncIterator[Core]:
    """A started core on a database of its own: every feature (as `kith serve`'s), or the
    base ones the suite's `core` has."""
    settings = own_database(settings)
    if every_feature:
        core = build_core(settings)
    else:
        core = Core.from_settings(settings)
        install(core, BASE_FEATURES)
    async with started(core):
        yield core


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            yield http


async def token(core: Core) -> dict[str, str]:
    workspace = await ensure_default_workspace(core)
    return {"Authorization": f"Bearer {await create_api_token(core, workspace.id, 't')}"}


async def test_two_cores_apps_share_routes_and_each_request_reaches_its_own_core(
    core: Core, settings: Settings
) -> None:
    async with other_core(settings, every_feature=False) as second:
        mine, theirs = await token(core), await token(second)
        assert routes_app(core, bot_step_types(core.features)) is routes_app(
            second, bot_step_types(second.features)
        )
        first_app = create_app(core=core, run_workers=False)
        second_app = create_app(core=second, run_workers=False)
        async with served(first_app) as first_http, served(second_app) as second_http:
            assert (await first_http.get("/api/v1/customers", headers=mine)).status_code == 200
            assert (await first_http.get("/api/v1/customers", headers=theirs)).status_code == 401
            assert (await second_http.get("/api/v1/customers", headers=theirs)).status_code == 200
            assert (await second_http.get("/api/v1/customers", headers=mine)).status_code == 401


async def test_an_app_with_more_features_serves_their_routes_beside_one_without(
    core: Core, settings: Settings
) -> None:
    async with other_core(settings, every_feature=True) as full:
        base_headers, full_headers = await token(core), await token(full)
        async with (
            served(create_app(core=core, run_workers=False)) as base_http,
            served(create_app(core=full, run_workers=False)) as full_http,
        ):
            answer = await full_http.get("/api/v1/tickets", headers=full_headers)
            assert answer.status_code == 200, answer.text
            missing = await base_http.get("/api/v1/tickets", headers=base_headers)
            assert missing.status_code == 404
            assert (await base_http.get("/healthz")).status_code == 200


def _requests(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("kith_http_request_seconds_count", labels) or 0.0


async def test_requests_are_timed_by_route_template_and_unmatched_ones_as_such(
    client: httpx.AsyncClient,
) -> None:
    """The wrapping app's middleware sees the shared app's route (never a raw path)."""
    template, before = "/customers/{customer_id}", _requests("/customers/{customer_id}", "401")
    unmatched = _requests("unmatched", "404")
    assert (await client.get("/api/v1/customers/c-1")).status_code == 401
    assert (await client.get("/no/such/page")).status_code == 404
    assert _requests(template, "401") == before + 1
    assert _requests("unmatched", "404") == unmatched + 1
    assert _requests("", "404") == 0
