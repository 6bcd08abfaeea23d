"""A live Kith server on a loopback port, and Debian's Chromium driven by Playwright.

`tests/support/install-browser` installs both; without them the browser tests skip with
the reason. The server runs in the test's own event loop (uvicorn), with its outbox worker,
so a reply typed in the browser is really delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from kith.core.context import Core
from kith.web.app import create_app

CHROMIUM = shutil.which("chromium")
HAS_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or not HAS_PLAYWRIGHT,
    reason="needs Debian's chromium and Playwright for Python: run tests/support/install-browser",
)
# How long the server may take to start: generous, since with sentiment on it loads its models
# first (34 s seen on this 2-CPU machine under load); a quick start costs nothing more.
READY_DEADLINE = 60.0
# How long `expect` waits for the page to get there: generous, since a loaded CI machine on the
# real engine can take seconds for one request; a correct page must not fail on speed.
EXPECT_TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    url: str
    core: Core


@contextlib.asynccontextmanager
async def live_server(core: Core) -> AsyncIterator[LiveServer]:
    """Serve the real app (workers on) on 127.0.0.1 and an ephemeral port until the block ends.

    The server is stopped however the block ends, its start and readiness check included: a
    server left running when the check timed out (a loaded machine) kept its listening socket
    and workers, and the socket's ResourceWarning at a later garbage collection failed
    whichever unrelated test was running then (warnings are errors in this suite)."""
    app = create_app(core=core, run_workers=True)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        yield LiveServer(await _ready(server, task), core)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, READY_DEADLINE)


async def _ready(server: uvicorn.Server, task: asyncio.Task[None]) -> str:
    """The started server's URL, once it answers /healthz."""
    deadline = time.monotonic() + READY_DEADLINE
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=EXPECT_TIMEOUT_MS / 1000) as http:  # a loaded machine
        assert (await http.get(url + "/healthz")).status_code == 200
    return url


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[object]:
    """A headless Debian Chromium (never a downloaded browser)."""
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
