"""The inbox's SSE stream over real HTTP when messages come in through another process.

The feed runs as in production here (its own timer: a read of the log at most
`realtime_poll_max_seconds` apart), so frames are awaited against a deadline, never slept for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from kith.core.context import Core
from kith.core.pipeline import ingest
from kith.core.realtime import parse_cursor
from tests.support.browser import live_server
from tests.support.cast import inbound
from tests.web.conftest import Cast
from tests.web.test_inbox_events import DEADLINE, cookie_of, frames


async def received(stream: AsyncIterator[tuple[str, dict]]) -> tuple[str, str]:
    """(frame id, message id) of the next `message.received` frame."""

    async def find() -> tuple[str, str]:
        async for frame_id, data in stream:
            if data["type"] == "message.received":
                return frame_id, data["message_id"]
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(find(), DEADLINE)


async def test_a_browser_hears_another_process_and_resumes_after_last_event_id_once(
    cast: Cast, core: Core, second_process: Core
) -> None:
    async with (
        live_server(core) as server,
        httpx.AsyncClient(
            base_url=server.url, cookies=await cookie_of(core, "admin", cast), timeout=DEADLINE
        ) as http,
    ):
        async with http.stream("GET", "/app/api/events") as answer:
            stream = frames(answer.aiter_lines())
            sent = [
                (await ingest(second_process, cast.shop, inbound(cast.shop, "ada", "B1"))),
                (await ingest(core, cast.shop, inbound(cast.shop, "grace", "A1"))),
                (await ingest(second_process, cast.help, inbound(cast.help, "li", "B2"))),
            ]
            got = [await received(stream) for _ in sent]
            assert sorted(m for _, m in got) == sorted(r.message.id for r in sent)
            frame_ids = [parse_cursor(i) for i, _ in got]
            assert frame_ids == sorted(frame_ids)  # a resume point never moves back
            last_event_id = got[-1][0]
        missed = [  # while the browser is away
            (await ingest(second_process, cast.shop, inbound(cast.shop, "ada", "B3"))).message.id,
            (await ingest(core, cast.help, inbound(cast.help, "grace", "A2"))).message.id,
            (await ingest(second_process, cast.shop, inbound(cast.shop, "li", "B4"))).message.id,
        ]
        async with http.stream(
            "GET", "/app/api/events", headers={"Last-Event-ID": last_event_id}
        ) as again:
            stream = frames(again.aiter_lines())
            assert [(await received(stream))[1] for _ in missed] == missed
            later = await ingest(second_process, cast.help, inbound(cast.help, "ada", "B5"))
            assert (await received(stream))[1] == later.message.id  # and nothing twice
