"""Kith served by uvicorn on a loopback port, in the test's own event loop.

Streams (SSE) and browsers need a real server: the in-process ASGI client buffers whole
responses. Running uvicorn as a task of the test's loop keeps one `Core` (and its manual
clock and embedded store) shared between the test and the server, with no threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve `app` (its lifespan already run by the caller) and yield its base URL.

    `host` only names the URL: `localhost` and `127.0.0.1` are different sites to a browser,
    which is how a test puts a shop page and Kith on two sites of one machine."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True  # open event streams must not hold the shutdown
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
