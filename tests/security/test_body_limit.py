"""A body over the cap reaches a plain client as a readable 413, not a connection reset."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import httpx

from kith.core.context import Core
from tests.support.browser import live_server

FIVE_MB = b"x" * (5 * 1024 * 1024)


def _post(url: str, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 (a loopback test server)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_urllib_posting_five_megabytes_reads_a_413(core: Core) -> None:
    async with live_server(core) as server:
        status, answer = await asyncio.to_thread(_post, server.url + "/api/v1/contacts", FIVE_MB)
    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"  # type: ignore[index]


async def test_a_body_past_the_drain_bound_is_not_read_to_its_end(
    client: httpx.AsyncClient, core: Core
) -> None:
    """Draining is bounded (16x the cap): a client streaming forever cannot hold a worker."""
    sent = 0
    chunk = b"x" * 65536

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(10_000):  # 655 MB if it were all read
            sent += len(chunk)
            yield chunk

    answer = await client.post("/api/v1/contacts", content=endless())
    assert answer.status_code == 413 and answer.headers["connection"] == "close"
    assert sent <= 16 * core.settings.max_body_bytes + 2 * len(chunk)
