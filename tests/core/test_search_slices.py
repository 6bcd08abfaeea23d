"""A search reads the newest matches first, in time slices, and still finds old ones."""

from __future__ import annotations

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.pipeline import ingest
from kith.core.search import newest_matches
from kith.core.search_terms import query_terms
from tests.support.cast import api_channel, inbound

DAY = 86_400.0


async def _say(core: Core, channel: object, text: str) -> str:
    received = await ingest(core, channel, inbound(channel, "li", text))  # type: ignore[arg-type]
    return received.message.id


async def _later(core: Core, clock: ManualClock, channel: object) -> str:
    clock.advance(1)
    return await _say(core, channel, "退款了吗?")


async def test_the_newest_matches_come_first_across_slices_and_years(
    core: Core, clock: ManualClock, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    old = [await _later(core, clock, channel) for _ in range(3)]
    clock.advance(400 * DAY)
    hour = []
    for i in range(4):
        hour.append(await _say(core, channel, f"我要退款 {i}"))
        clock.advance(600)  # ten minutes apart: the last hour
    recent = [await _say(core, channel, "退款了吗"), await _later(core, clock, channel)]
    clock.advance(-30)  # a message stamped a little ahead of this process's clock
    query = {"workspace_id": workspace_id, "terms": {"$all": query_terms("退款")}}

    every = [m["_id"] for m in await newest_matches(core, query, scan=100)]
    assert every == [*reversed(recent), *reversed(hour), *reversed(old)]
    newest = [m["_id"] for m in await newest_matches(core, query, scan=5)]
    assert newest == [*reversed(recent), *reversed(hour)][:5]
    assert await newest_matches(core, {**query, "terms": {"$all": ["nowhere"]}}) == []
