"""The inbox's SSE stream over real HTTP: live frames, Last-Event-ID catch-up, team scope."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx

from kith.core.context import Core
from kith.core.models import User
from kith.core.pipeline import ingest
from kith.core.sessions import open_session
from tests.support.browser import live_server
from tests.support.cast import inbound
from tests.web.conftest import Cast

DEADLINE = 5.0


async def frames(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, dict]]:
    """(id, data) of each event frame; comments and `retry:` lines are skipped."""
    event_id = None
    async for line in lines:
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            yield event_id, json.loads(line[6:])


async def next_frame(stream: AsyncIterator[tuple[str, dict]]) -> tuple[str, dict]:
    return await asyncio.wait_for(anext(stream), DEADLINE)


async def cookie_of(core: Core, name: str, cast: Cast) -> dict[str, str]:
    user = User.from_doc(await core.store.users.find_one({"_id": cast.users[name].id}))
    return {"kith_session": await open_session(core, user)}


async def test_live_frames_then_catch_up_after_a_reconnect(cast: Cast, core: Core) -> None:
    async with (
        live_server(core) as server,
        httpx.AsyncClient(
            base_url=server.url, cookies=await cookie_of(core, "admin", cast), timeout=DEADLINE
        ) as http,
    ):
        async with http.stream("GET", "/app/api/events") as answer:
            assert answer.headers["content-type"].startswith("text/event-stream")
            stream = frames(answer.aiter_lines())
            first = await ingest(core, cast.shop, inbound(cast.shop, "ada", "one"))
            last_id, data = await next_frame(stream)
            assert data["type"] == "message.received" and data["message_id"] == first.message.id
        # Disconnected: two messages arrive meanwhile.
        missed = [
            (await ingest(core, cast.shop, inbound(cast.shop, "ada", t))).message.id
            for t in ("two", "three")
        ]
        async with http.stream(
            "GET", "/app/api/events", headers={"Last-Event-ID": last_id}
        ) as again:
            stream = frames(again.aiter_lines())
            got = [(await next_frame(stream))[1]["message_id"] for _ in missed]
        assert got == missed


async def test_an_agent_hears_only_of_their_teams_conversations(cast: Cast, core: Core) -> None:
    async with (
        live_server(core) as server,
        httpx.AsyncClient(
            base_url=server.url, cookies=await cookie_of(core, "alice", cast), timeout=DEADLINE
        ) as http,
    ):
        async with http.stream("GET", "/app/api/events") as answer:
            stream = frames(answer.aiter_lines())
            await ingest(core, cast.help, inbound(cast.help, "grace", "support only"))
            mine = await ingest(core, cast.shop, inbound(cast.shop, "ada", "for sales"))
            _, data = await next_frame(stream)
            assert data["message_id"] == mine.message.id


async def test_the_stream_needs_a_session_and_a_well_formed_cursor(cast: Cast, core: Core):
    async with live_server(core) as server, httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/app/api/events")).status_code == 401
        http.cookies.update(await cookie_of(core, "admin", cast))
        bad = await http.get("/app/api/events", headers={"Last-Event-ID": "nonsense"})
        assert bad.status_code == 422
