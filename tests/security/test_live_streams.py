"""The inbox's live stream ends soon after its reader loses access, even while events flow.

It used to re-check the session only when quiet, so a disabled agent kept hearing of new
messages (40 s in the report). The re-check runs every `stream_recheck_seconds` on Kith's
injected clock while events flow (moved by the test, no sleeping) and on a timer while quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

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


@dataclass
class AliceStream:
    """Alice's live inbox stream, read frame by frame, and her session cookie."""

    frames: AsyncIterator[tuple[str, dict]]
    cookie: str

    async def next_message_id(self) -> str:
        return str((await asyncio.wait_for(anext(self.frames), DEADLINE))[1]["message_id"])

    async def frame_before_the_end(self) -> tuple[str, dict] | None:
        """The next frame, or None when the stream ends first (what the tests want)."""
        try:
            return await asyncio.wait_for(anext(self.frames), DEADLINE)
        except StopAsyncIteration:
            return None


@contextlib.asynccontextmanager
async def alice_stream(core: Core, cast: Cast) -> AsyncIterator[AliceStream]:
    """Alice's `/app/api/events`, on a live server (the stream is real HTTP)."""
    cookies = await cookie_of(core, "alice", cast)
    async with (
        live_server(core) as server,
        httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=DEADLINE) as http,
        http.stream("GET", "/app/api/events") as answer,
    ):
        yield AliceStream(frames(answer.aiter_lines()), cookies["kith_session"])


@pytest.mark.parametrize("change", [disable, move_out_of_sales, log_out])
async def test_a_busy_stream_closes_within_the_recheck_interval(
    cast: Cast, core: Core, clock: ManualClock, change: Change
) -> None:
    async with alice_stream(core, cast) as stream:
        first = await say(core, cast, "before")
        assert await stream.next_message_id() == first
        await change(core, cast, stream.cookie)
        clock.advance(core.settings.stream_recheck_seconds)
        await say(core, cast, "after: not for alice any more")
        assert (got := await stream.frame_before_the_end()) is None, got


async def test_a_quiet_stream_closes_on_its_timer(cast: Cast, core: Core) -> None:
    core.settings.stream_recheck_seconds = 0.05  # the quiet path's timer is real time
    async with alice_stream(core, cast) as stream:
        await disable(core, cast, stream.cookie)
        assert (got := await stream.frame_before_the_end()) is None, got


async def test_a_stream_whose_reader_keeps_access_stays_open(
    cast: Cast, core: Core, clock: ManualClock
) -> None:
    async with alice_stream(core, cast) as stream:
        for n in range(3):
            clock.advance(core.settings.stream_recheck_seconds)
            sent = await say(core, cast, f"message {n}")
            assert await stream.next_message_id() == sent
