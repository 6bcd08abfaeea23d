"""A Core with sequences installed, customers reachable on an API channel, and helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.egress import http_client
from kith.core.features import install
from kith.core.models import Channel, Customer, InboundUser
from kith.core.pipeline import ingest
from kith.sequences.actions import do_create_sequence, move
from kith.sequences.feature import feature
from kith.sequences.models import Sequence, SequenceIn, Status
from tests.support.cast import api_channel, inbound

People = Callable[..., Awaitable[list[Customer]]]
MakeSequence = Callable[..., Awaitable[Sequence]]


@pytest.fixture
async def score(core: Core, clock: ManualClock) -> Core:
    """The suite's Core (embedded or real lane) with sequences installed, at noon UTC (the
    default quiet hours are 21:00 to 09:00 in the workspace's zone, UTC)."""
    clock.advance(12 * 3600)
    install(core, [feature(core)])
    await core.start()
    return core


@pytest.fixture
async def channel(score: Core, workspace_id: str) -> Channel:
    return (await api_channel(score, workspace_id))[0]


@pytest.fixture
def people(score: Core, channel: Channel) -> People:
    """`await people(n)`: n customers who wrote once on the API channel (ids in order)."""

    async def make(n: int, prefix: str = "c", locale: str | None = None) -> list[Customer]:
        made = []
        for i in range(n):
            user = InboundUser(id=f"{prefix}-{i:05d}", name=f"Person {i}", locale=locale)
            result = await ingest(score, channel, inbound(channel, user=user, text="hi"))
            doc = await score.store.customers.find_one({"_id": result.conversation.customer_id})
            assert doc is not None
            made.append(Customer.from_doc(doc))
        return made

    return make


WELCOME: dict[str, Any] = {
    "name": "Welcome",
    "channels": ["api"],
    "steps": [
        {"id": "welcome", "type": "send", "message": {"text": {"en": "Hi {{ customer.name }}"}}},
        {"id": "pause", "type": "wait", "duration": "P1D"},
        {"id": "tip", "type": "send", "message": {"text": {"en": "A tip"}}},
    ],
}


@pytest.fixture
def make_sequence(score: Core, workspace_id: str) -> MakeSequence:
    """`await make_sequence(**overrides)`: a sequence (WELCOME unless told), active."""

    async def make(active: bool = True, **overrides: Any) -> Sequence:
        body = SequenceIn.model_validate({**WELCOME, **overrides})
        sequence = await do_create_sequence(score, workspace_id, body)
        if active:
            sequence = await move(score, workspace_id, sequence.id, Status.active)
        return sequence

    return make


@dataclass
class Hooked:
    headers: dict[str, str]
    body: bytes


@dataclass
class Hook:
    """A webhook receiver on a real loopback socket, reached through the egress guard (the
    suite's settings allow loopback, as an on-premise install would its own hosts).
    Answers `status`; `on_request` runs before each answer (a receiver that pauses the
    sequence, say)."""

    url: str = ""
    status: int = 200
    requests: list[Hooked] = field(default_factory=list)
    on_request: Callable[[], Awaitable[None]] | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        lines = head.split("\r\n")[1:]
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Hooked(headers, body))
        if self.on_request is not None:
            await self.on_request()
        reason = b"OK" if self.status < 400 else b"Error"
        writer.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
            b"connection: close\r\n\r\n{}" % (self.status, reason)
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def hook(score: Core) -> AsyncIterator[Hook]:
    """`score.http` becomes the production client (egress-guarded) and `hook.url` a receiver."""
    receiver = Hook()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/kith/sequence"
    await score.http.aclose()
    score.http = http_client(score.egress)
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()
