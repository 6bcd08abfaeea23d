"""Fixtures shared by the whole suite.

Every database test runs on the embedded engine, and on a real server when
`KITH_TEST_MONGO_URI` is set; each test gets its own database, dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import fastapi.dependencies.models
import httpx
import pytest
from asgi_lifespan import LifespanManager

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import BASE_FEATURES, create_app
from tests.support.callbacks import CallbackServer
from tests.support.cores import started
from tests.support.shards import keep_shard

REAL_URI = os.environ.get("KITH_TEST_MONGO_URI") or None
# The fakes that listen on loopback (Slack's Web API, mail servers, callback endpoints) are
# private destinations: the suite allows them as an on-premise install would its own.
LOOPBACK_FAKES = "127.0.0.0/8,::1,localhost"
# Playwright's driver copies Chromium's own output into its stderr, which pytest shows with a
# failed test: a browser that crashed under load (TargetClosedError) then says why.
os.environ.setdefault("DEBUG", "pw:browser")


def pytest_report_header(config: pytest.Config) -> str:
    lane = f"real server at {REAL_URI}" if REAL_URI else "embedded engine"
    return f"kith database lane: {lane}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Lane 1 skips what needs a real server; lane 2 leaves out what touches no database
    (no `settings` fixture, not `realdb`): the embedded lane has run it already. Then only
    this process's share is kept, when the lane runs in several."""
    if REAL_URI:
        left_out = [item for item in items if not touches_database(item)]
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if touches_database(item)]
    else:
        skip = pytest.mark.skip(
            reason="needs a real MongoDB-compatible server (KITH_TEST_MONGO_URI)"
        )
        for item in items:
            if "realdb" in item.keywords:
                item.add_marker(skip)
    keep_shard(config, items)  # KITH_TEST_SHARD=i/n: tests/run's lanes run in several shares


def touches_database(item: pytest.Item) -> bool:
    return "realdb" in item.keywords or "settings" in getattr(item, "fixturenames", ())


@pytest.fixture(autouse=True)
def _apps_let_go() -> Iterator[None]:
    """FastAPI remembers how to call each endpoint function in module-wide caches of 4096;
    the endpoints of an app built on a test's core close over it, so some 300 tests' cores
    stayed alive behind them, each with its database and its language model. Forgotten
    after each test (a cache, so nothing but a little time is lost)."""
    yield
    for cached in vars(fastapi.dependencies.models).values():
        if callable(getattr(cached, "cache_clear", None)):
            cached.cache_clear()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        mongo_uri=REAL_URI,
        db_name=f"kith_test_{uuid.uuid4().hex[:12]}",
        outbox_backoff_base=2.0,
        outbox_max_attempts=4,
        secret_key="kith-test-install-secret",  # channel secrets are sealed, as in production
        egress_allow=LOOPBACK_FAKES,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def callbacks() -> CallbackServer:
    return CallbackServer()


@pytest.fixture
async def core(
    settings: Settings, clock: ManualClock, callbacks: CallbackServer
) -> AsyncIterator[Core]:
    core = Core(
        store=Store.from_settings(settings),
        settings=settings,
        clock=clock,
        http=httpx.AsyncClient(transport=httpx.ASGITransport(app=callbacks)),
    )
    install(core, BASE_FEATURES)
    async with started(core):
        yield core


@pytest.fixture
async def second_process(settings: Settings, clock: ManualClock, core: Core) -> AsyncIterator[Core]:
    """Another Kith process on the same database (the embedded engine lives in one process,
    so there the two share its store)."""
    store = core.store if core.store.embedded else Store.from_settings(settings)
    other = Core(store=store, settings=settings, clock=clock)  # egress-guarded http
    install(other, BASE_FEATURES)
    yield other
    await other.http.aclose()
    if store is not core.store:
        await store.close()


@pytest.fixture
async def workspace_id(core: Core) -> str:
    return (await ensure_default_workspace(core)).id


@pytest.fixture
async def client(core: Core) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app (lifespan run; background workers off)."""
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            yield http
