"""Live replies over Server-Sent Events, and catching up after a reconnect (Last-Event-ID)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.outbox import OutboxWorker
from tests.connectors.webchat.conftest import SHOP, Visitor, Webchat
from tests.connectors.webchat.served import serve

DEADLINE = 15.0  # generous: a slow CI machine must not fail a correct widget


@dataclass
class Stream:
    """One open `GET /events`: its parsed events arrive on a queue."""

    events: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    comments: list[str] = field(default_factory=list)
    pinged: asyncio.Event = field(default_factory=asyncio.Event)

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), DEADLINE)

    async def nothing_more(self, seconds: float = 1.0) -> bool:
        try:
            await asyncio.wait_for(self.events.get(), seconds)
        except TimeoutError:
            return True
        return False


@contextlib.asynccontextmanager
async def listen(visitor: Visitor, last_event_id: str | None = None) -> AsyncIterator[Stream]:
    headers = dict(visitor.headers)
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    stream = Stream()
    opened: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def read() -> None:
        async with visitor.http.stream("GET", visitor.url("/events"), headers=headers) as answer:
            opened.set_result(answer.status_code)
            event: dict[str, Any] = {}
            async for line in answer.aiter_lines():
                if line.startswith(":"):
                    stream.comments.append(line)
                    if line == ": ping":
                        stream.pinged.set()
                elif line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("event: "):
                    event["event"] = line[7:]
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif not line and event:
                    await stream.events.put(event)
                    event = {}

    task = asyncio.create_task(read())
    try:
        assert await asyncio.wait_for(opened, DEADLINE) == 200
        yield stream
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def served(kith_app: FastAPI) -> AsyncIterator[str]:
    async with serve(kith_app) as base_url:
        yield base_url


async def browser(webchat: Webchat, base_url: str) -> Visitor:
    http = httpx.AsyncClient(base_url=base_url, timeout=DEADLINE)
    webchat.clients.append(http)
    visitor = Visitor(http, webchat.channel_id, SHOP)
    assert (await visitor.start()).status_code == 200
    return visitor


async def delivered(webchat: Webchat, core: Core, conv_id: str, text: str, **kw: Any) -> None:
    assert (await webchat.reply(conv_id, text=text, **kw)).status_code == 201
    await OutboxWorker(core).run_once()


async def test_replies_stream_live_and_notes_never_do(
    webchat: Webchat, core: Core, served: str, clock: ManualClock
) -> None:
    ada = await browser(webchat, served)
    posted = await ada.say("Is the Tieguanyin fresh?")
    conv_id = (await webchat.conversation_of(posted))["_id"]
    async with listen(ada) as stream:
        clock.advance(1)
        await webchat.reply(conv_id, text="internal: check the batch date", private=True)
        await delivered(webchat, core, conv_id, "Picked in April.")
        event = await stream.next()
        assert event["event"] == "message"
        assert event["data"]["text"] == "Picked in April."
        assert event["data"]["author"]["kind"] == "agent"
        assert await stream.nothing_more()
    assert stream.comments[0] == ": connected"


async def test_a_reconnect_with_last_event_id_gets_what_was_missed(
    webchat: Webchat, core: Core, served: str, clock: ManualClock
) -> None:
    ada = await browser(webchat, served)
    conv_id = (await webchat.conversation_of(await ada.say("hello")))["_id"]
    async with listen(ada) as stream:
        clock.advance(1)
        await delivered(webchat, core, conv_id, "first reply")
        seen = await stream.next()
    clock.advance(1)
    await delivered(webchat, core, conv_id, "said while offline")
    clock.advance(1)
    await ada.say("typed in another tab")
    async with listen(ada, last_event_id=seen["id"]) as stream:
        missed = [await stream.next(), await stream.next()]
        assert [e["data"]["text"] for e in missed] == ["said while offline", "typed in another tab"]
        assert missed[1]["data"]["direction"] == "in"
        clock.advance(1)
        await delivered(webchat, core, conv_id, "and live again")
        assert (await stream.next())["data"]["text"] == "and live again"
        assert await stream.nothing_more()


async def test_history_tells_where_the_stream_should_start(
    webchat: Webchat, core: Core, served: str, clock: ManualClock
) -> None:
    ada = await browser(webchat, served)
    conv_id = (await webchat.conversation_of(await ada.say("hi")))["_id"]
    await delivered(webchat, core, conv_id, "already in the history")
    answer = await ada.http.get(ada.url("/messages"), headers=ada.headers)
    stream_after = answer.json()["stream_after"]
    clock.advance(1)
    await delivered(webchat, core, conv_id, "said between history and stream")
    async with listen(ada, last_event_id=stream_after) as stream:
        assert (await stream.next())["data"]["text"] == "said between history and stream"
        assert await stream.nothing_more()


async def test_a_visitor_streams_only_their_own_conversation(
    webchat: Webchat, core: Core, served: str, clock: ManualClock
) -> None:
    ada, bob = await browser(webchat, served), await browser(webchat, served)
    ada_conv = (await webchat.conversation_of(await ada.say("ada here")))["_id"]
    bob_conv = (await webchat.conversation_of(await bob.say("bob here")))["_id"]
    async with listen(bob) as bobs:
        clock.advance(1)
        await delivered(webchat, core, ada_conv, "for ada only")
        await delivered(webchat, core, bob_conv, "for bob")
        assert (await bobs.next())["data"]["text"] == "for bob"
        assert await bobs.nothing_more()


async def test_a_quiet_stream_sends_heartbeats_so_proxies_keep_it_open(
    webchat: Webchat, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kith.connectors.webchat.routes.HEARTBEAT_SECONDS", 0.05)
    ada = await browser(webchat, served)
    async with listen(ada) as stream:
        await asyncio.wait_for(stream.pinged.wait(), DEADLINE)
        assert stream.events.empty()
