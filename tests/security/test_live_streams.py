"""The inbox's live stream ends soon after its reader loses access, even while events flow.

It used to re-check the session only when quiet, so a disabled agent kept hearing of new
messages (40 s in the report). The re-check runs every `stream_recheck_seconds` on Kith's
injected clock while events flow (moved by the test, no sleeping) and on a timer while quiet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.pipeline import ingest
from kith.core.sessions import end_session
from kith.core.users import do_update_user
from tests.support.browser import live_server
from tests.support.cast import inbound
from tests.web.conftest import Cast
from tests.web.test_inbox_events import DEADLINE, cookie_of, frames

Change = Callable[[Core, Cast, str], Awaitable[None]]


async def disable(core: Core, cast: Cast, cookie: str) -> None:
    await do_update_user(core, cast.users["admin"], cast.users["alice"].id, disabled=True)


async def move_out_of_sales(core: Core, cast: Cast, cookie: str) -> None:
    await do_update_user(core, cast.users["admin"], cast.users["alice"].id, team_ids=[])


async def log_out(core: Core, cast: Cast, cookie: str) -> None:
    await end_session(core, cookie)


async def say(core: Core, cast: Cast, text: str) -> str:
    return (await ingest(core, cast.shop, inbound(cast.shop, "ada", text))).message.id


async def ended(stream: AsyncIterator[tuple[str, dict]]) -> bool:
    try:
        await asyncio.wait_for(anext(stream), DEADLINE)
    except StopAsyncIteration:
        return True
    return False


@pytest.mark.parametrize("change", [disable, move_out_of_sales, log_out])
async def test_a_busy_stream_closes_within_the_recheck_interval(
    cast: Cast, core: Core, clock: ManualClock, change: Change
) -> None:
    cookies = await cookie_of(core, "alice", cast)
    async with (
        live_server(core) as server,
        httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=DEADLINE) as http,
        http.stream("GET", "/app/api/events") as answer,
    ):
        stream = frames(answer.aiter_lines())
        first = await say(core, cast, "before")
        assert (await asyncio.wait_for(anext(stream), DEADLINE))[1]["message_id"] == first
        await change(core, cast, cookies["kith_session"])
        clock.advance(core.settings.stream_recheck_seconds)
        await say(core, cast, "after: not for alice any more")
        assert await ended(stream)


async def test_a_quiet_stream_closes_on_its_timer(cast: Cast, core: Core) -> None:
    core.settings.stream_recheck_seconds = 0.05  # the quiet path's timer is real time
    cookies = await cookie_of(core, "alice", cast)
    async with (
        live_server(core) as server,
        httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=DEADLINE) as http,
        http.stream("GET", "/app/api/events") as answer,
    ):
        stream = frames(answer.aiter_lines())
        await disable(core, cast, cookies["kith_session"])
        assert await ended(stream)


async def test_a_stream_whose_reader_keeps_access_stays_open(
    cast: Cast, core: Core, clock: ManualClock
) -> None:
    cookies = await cookie_of(core, "alice", cast)
    async with (
        live_server(core) as server,
        httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=DEADLINE) as http,
        http.stream("GET", "/app/api/events") as answer,
    ):
        stream = frames(answer.aiter_lines())
        for n in range(3):
            clock.advance(core.settings.stream_recheck_seconds)
            sent = await say(core, cast, f"message {n}")
            assert (await asyncio.wait_for(anext(stream), DEADLINE))[1]["message_id"] == sent
