"""The public widget cannot be used to mint customers, flood a channel or hoard streams.

Limits are token buckets on Kith's injected clock (`ManualClock`): refills are tested by
moving the clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from kith.connectors.webchat.limits import (
    NEW_VISITORS_PER_ADDRESS,
    NEW_VISITORS_PER_CHANNEL,
    POSTS_PER_ADDRESS,
    STREAMS_PER_ADDRESS,
    STREAMS_PER_VISITOR,
)
from kith.core.clock import ManualClock
from kith.core.context import Core
from tests.connectors.webchat.conftest import SHOP, Visitor, Webchat
from tests.connectors.webchat.served import serve

_ports = itertools.count(40000)


def visitor_at(chat: Webchat, address: str, base_url: str = "https://kith.test") -> Visitor:
    """A browser whose connection comes from `address`."""
    transport = httpx.ASGITransport(app=chat.app, client=(address, next(_ports)))
    http = httpx.AsyncClient(transport=transport, base_url=base_url)
    chat.clients.append(http)
    return Visitor(http, chat.channel_id)


def behind_proxy(chat: Webchat, client: str, proxy: str = "10.0.0.7") -> Visitor:
    """A browser at `client`, reaching Kith through the reverse proxy at `proxy`."""
    visitor = visitor_at(chat, proxy)
    visitor.http.headers["X-Forwarded-For"] = f"{client}, {proxy}"
    return visitor


async def customers(core: Core) -> int:
    return await core.store.customers.count_documents({})


async def test_one_address_cannot_mint_visitors_without_end(
    webchat: Webchat, core: Core, clock: ManualClock
) -> None:
    burst = int(NEW_VISITORS_PER_ADDRESS[0])
    for _ in range(burst):
        assert (await visitor_at(webchat, "203.0.113.9").start()).status_code == 200
    refused = await visitor_at(webchat, "203.0.113.9").start()
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["access-control-allow-origin"] == SHOP  # the widget can read why
    assert (await visitor_at(webchat, "198.51.100.4").start()).status_code == 200  # not others
    clock.advance(1 / NEW_VISITORS_PER_ADDRESS[1])
    assert (await visitor_at(webchat, "203.0.113.9").start()).status_code == 200


async def test_a_returning_visitor_is_not_counted_as_new(webchat: Webchat) -> None:
    ada = visitor_at(webchat, "203.0.113.9")
    for _ in range(int(NEW_VISITORS_PER_ADDRESS[0]) + 5):  # page loads keep the visitor
        assert (await ada.start()).status_code == 200


async def test_a_channel_caps_new_visitors_from_everywhere(webchat: Webchat) -> None:
    burst = int(NEW_VISITORS_PER_CHANNEL[0])
    for n in range(burst):
        answer = await visitor_at(webchat, f"10.{n // 250}.{n % 250}.1").start()
        assert answer.status_code == 200
    assert (await visitor_at(webchat, "192.0.2.200").start()).status_code == 429


async def test_one_address_cannot_flood_posts_through_many_visitors(
    webchat: Webchat, core: Core, clock: ManualClock
) -> None:
    clock.advance(60 - clock.now().timestamp() % 60)  # the start of a per-visitor window
    burst = int(POSTS_PER_ADDRESS[0])
    visitors = [visitor_at(webchat, "203.0.113.9") for _ in range(burst // 15)]
    for visitor in visitors:
        await visitor.start()
        for n in range(15):  # under each visitor's own limit (20 a minute)
            assert (await visitor.say(f"hello {n}")).status_code == 200
    flooded = await visitors[0].say("one more")
    assert flooded.status_code == 429
    assert await core.store.messages.count_documents({}) == burst
    elsewhere = visitor_at(webchat, "198.51.100.4")
    await elsewhere.start()
    assert (await elsewhere.say("hi")).status_code == 200
    clock.advance(1 / POSTS_PER_ADDRESS[1])
    assert (await visitors[1].say("later")).status_code == 200


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    webchat: Webchat, core: Core
) -> None:
    burst = int(NEW_VISITORS_PER_ADDRESS[0])
    for n in range(burst):  # no KITH_TRUSTED_PROXIES: a forged header changes nothing
        answer = await behind_proxy(webchat, f"198.51.100.{n}").start()
        assert answer.status_code == 200
    assert (await behind_proxy(webchat, "198.51.100.250").start()).status_code == 429


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    webchat: Webchat, core: Core
) -> None:
    core.settings.trusted_proxies = "10.0.0.0/24"
    burst = int(NEW_VISITORS_PER_ADDRESS[0])
    for _ in range(burst):
        assert (await behind_proxy(webchat, "203.0.113.9").start()).status_code == 200
    assert (await behind_proxy(webchat, "203.0.113.9").start()).status_code == 429
    assert (await behind_proxy(webchat, "198.51.100.4").start()).status_code == 200
    spoofed = behind_proxy(webchat, "203.0.113.9")  # the client prepends a made-up address
    spoofed.http.headers["X-Forwarded-For"] = "1.2.3.4, 203.0.113.9, 10.0.0.7"
    assert (await spoofed.start()).status_code == 429  # the right-most untrusted one counts


@contextlib.asynccontextmanager
async def open_stream(visitor: Visitor) -> AsyncIterator[int]:
    """Hold `GET /events` open; yields its status (the stream closes when the block ends)."""
    opened: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def hold() -> None:
        async with visitor.http.stream("GET", visitor.url("/events"), headers=visitor.headers) as a:
            opened.set_result(a.status_code)
            if a.status_code == 200:
                async for _ in a.aiter_lines():
                    pass

    task = asyncio.create_task(hold())
    try:
        yield await asyncio.wait_for(opened, 15)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def served(kith_app: FastAPI, webchat: Webchat, core: Core) -> AsyncIterator[str]:
    """The app on a real loopback server (the in-process client buffers whole responses);
    the loopback peer is a trusted proxy, so X-Forwarded-For names each test client."""
    core.settings.trusted_proxies = "127.0.0.1"
    async with serve(kith_app) as url:
        yield url


def browser_at(chat: Webchat, url: str, address: str) -> Visitor:
    http = httpx.AsyncClient(base_url=url, headers={"X-Forwarded-For": address}, timeout=15)
    chat.clients.append(http)
    return Visitor(http, chat.channel_id)


async def test_live_streams_are_capped_per_visitor(webchat: Webchat, served: str) -> None:
    ada = browser_at(webchat, served, "203.0.113.9")
    await ada.start()
    async with contextlib.AsyncExitStack() as streams:
        for _ in range(STREAMS_PER_VISITOR):
            assert await streams.enter_async_context(open_stream(ada)) == 200
        refused = await ada.http.get(ada.url("/events"), headers=ada.headers)
        assert refused.status_code == 429
        assert json.loads(refused.text)["error"]["code"] == "rate_limited"
    # closed streams give their slots back (the server notices the disconnect)
    for _ in range(100):
        async with open_stream(ada) as status:
            if status == 200:
                return
    pytest.fail("the visitor's slots were never given back")


async def test_live_streams_are_capped_per_address(webchat: Webchat, served: str) -> None:
    async with contextlib.AsyncExitStack() as streams:
        for _ in range(STREAMS_PER_ADDRESS // STREAMS_PER_VISITOR):
            visitor = browser_at(webchat, served, "203.0.113.9")
            await visitor.start()
            for _ in range(STREAMS_PER_VISITOR):
                assert await streams.enter_async_context(open_stream(visitor)) == 200
        one_more = browser_at(webchat, served, "203.0.113.9")
        await one_more.start()
        refused = await one_more.http.get(one_more.url("/events"), headers=one_more.headers)
        assert refused.status_code == 429
        elsewhere = browser_at(webchat, served, "198.51.100.4")
        await elsewhere.start()
        assert await streams.enter_async_context(open_stream(elsewhere)) == 200
