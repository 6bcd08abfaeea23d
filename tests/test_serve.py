"""`kith serve --workers 2` on a real server: two processes start against one database (both
create the indexes), share the work, and a message retried across them is stored once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.conftest import REAL_URI

pytestmark = pytest.mark.realdb
KITH = Path(sys.executable).with_name("kith")
READY_DEADLINE = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PortTaken(Exception):
    """The port `free_port` chose was taken before the server bound it."""


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, dict[str, str]]]:
    env = {
        **os.environ,
        "KITH_MONGO_URI": REAL_URI or "",
        "KITH_DB_NAME": f"kith_test_serve_{uuid.uuid4().hex[:10]}",
        "KITH_SECRET_KEY": "serve-test-secret",
        "KITH_NLP_ENABLED": "false",
        "KITH_LOG_LEVEL": "WARNING",
    }
    server, base = await _start(env)
    try:
        yield base, env
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        await asyncio.wait_for(server.communicate(), 30)
        client: AsyncMongoClient = AsyncMongoClient(REAL_URI)
        await client.drop_database(env["KITH_DB_NAME"])
        await client.close()


async def _start(env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    """`kith serve --workers 2` on a free port, once it answers. A port free when chosen can
    be taken before the server binds it (the other test lane's servers take ports too): then
    another is tried."""
    for _ in range(3):
        port = free_port()
        server = await asyncio.create_subprocess_exec(
            str(KITH),
            *("serve", "--workers", "2", "--port", str(port)),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            await _ready(f"http://127.0.0.1:{port}", server)
        except PortTaken:
            continue
        return server, f"http://127.0.0.1:{port}"
    raise AssertionError("kith serve found no free port in three tries")


async def _ready(base: str, server: asyncio.subprocess.Process) -> None:
    """Wait until this server's /healthz answers (polling a starting server, not sleeping for
    a result). Only an answer from the real database counts: a test's embedded live server
    that took the port would answer too."""
    async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(READY_DEADLINE):
        while True:
            if server.returncode is not None:
                _, err = await server.communicate()
                if b"address already in use" in err.lower():
                    raise PortTaken
                raise AssertionError(err.decode())
            try:
                answer = await http.get(f"{base}/healthz")
                if answer.status_code == 200 and not answer.json()["database"]["embedded"]:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)


async def test_two_worker_processes_share_one_database(served) -> None:
    base, env = served
    made = await asyncio.create_subprocess_exec(
        str(KITH),
        *("token", "create", "--name", "serve-test"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await made.communicate()
    assert made.returncode == 0
    token = out.decode().strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=0)  # spread the load
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        config = {"callback_url": "http://127.0.0.1:9/unused"}
        channel = await http.post(
            "/api/v1/channels", json={"type": "api", "name": "Site", "config": config}, headers=auth
        )
        assert channel.status_code == 201, channel.text
        hook = f"/webhooks/api/{channel.json()['id']}"
        channel_auth = {"Authorization": f"Bearer {channel.json()['token']}"}

        async def say(n: int) -> httpx.Response:
            body = {"message_id": f"m-{n}", "user": {"id": f"u-{n % 5}"}, "text": f"hello {n}"}
            return await http.post(hook, json=body, headers=channel_auth)

        answers = await asyncio.gather(*(say(n % 20) for n in range(40)))  # each sent twice
        assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
        conversations = await http.get("/api/v1/conversations", headers=auth)
        assert len(conversations.json()["items"]) == 5
    client: AsyncMongoClient = AsyncMongoClient(REAL_URI)
    try:
        db = client[env["KITH_DB_NAME"]]
        assert await db.messages.count_documents({}) == 20
        assert await db.events.count_documents({"type": "message.received"}) == 20
    finally:
        await client.close()
