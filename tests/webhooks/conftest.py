"""A Core with webhooks installed, a receiver on a real loopback socket, and helpers.

The clock starts at the wall's now: receivers check `webhook-timestamp` against their own
clock (five minutes either way), as the standardwebhooks library does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from kith.core.egress import http_client
from kith.core.features import install
from kith.core.models import Channel
from kith.webhooks.actions import do_create_endpoint
from kith.webhooks.feature import feature
from kith.webhooks.models import EndpointIn
from tests.support.cast import api_channel, api_token


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(utcnow())


@pytest.fixture
async def hooked(core: Core) -> Core:
    """The suite's Core (embedded or real lane) with webhooks installed; its `http` is the
    production client (egress-guarded; the suite allows loopback for its fakes)."""
    install(core, [feature(core)])
    await core.start()
    await core.http.aclose()
    core.http = http_client(core.egress)
    return core


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A subscriber's endpoint: answers each request with the next of `statuses` (200 when
    none is left) and of `answers` (`{}` when none is left); with `hold` set, keeps the first
    `hold` requests open until `release`."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    answers: list[bytes] = field(default_factory=list)
    hold: int = 0
    requests: list[Received] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, requests: int) -> None:
        async with asyncio.timeout(10):
            while len(self.requests) < requests:
                self.changed.clear()
                await self.changed.wait()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            request_line, *lines = head.split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(request_line.split(" ")[1], headers, body))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.changed.set()
            try:
                if len(self.requests) <= self.hold:
                    await self.release.wait()
            finally:
                self.in_flight -= 1
            status = self.statuses.pop(0) if self.statuses else 200
            answer = self.answers.pop(0) if self.answers else b"{}"
            writer.write(
                b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n%s" % (status, len(answer), answer)
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with _receiver("/hooks/kith") as made:
        yield made


@pytest.fixture
async def other_receiver() -> AsyncIterator[Receiver]:
    async with _receiver("/other") as made:
        yield made


class _receiver:
    def __init__(self, path: str) -> None:
        self.receiver = Receiver()
        self.path = path

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self.receiver.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.receiver.url = f"http://127.0.0.1:{port}{self.path}"
        return self.receiver

    async def __aexit__(self, *exc: object) -> None:
        self.receiver.release.set()
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def channel(hooked: Core, workspace_id: str) -> Channel:
    return (await api_channel(hooked, workspace_id))[0]


@pytest.fixture
async def token(hooked: Core, workspace_id: str) -> str:
    return await api_token(hooked, workspace_id)


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def subscribe(core: Core, workspace_id: str, url: str, *events: str) -> tuple[str, str]:
    """An endpoint for `events` (every one when none is named): (its id, its secret)."""
    body = EndpointIn(url=url, events=list(events) or ["*"])
    made = await do_create_endpoint(core, workspace_id, body)
    return made.endpoint.id, made.secret


async def post(http: httpx.AsyncClient, token: str, path: str, **kw: object) -> httpx.Response:
    return await http.post(f"/api/v1/webhooks{path}", headers=auth(token), **kw)  # type: ignore[arg-type]
