"""A search reads the newest matching conversations first, in windows of time, and still
finds old ones, page after page."""

from __future__ import annotations

from datetime import timedelta

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import InboundUser
from kith.core.pipeline import ingest
from kith.core.search import _HINTS, search_page
from tests.support.cast import api_channel, inbound

DAY = 86_400.0


async def _say(core: Core, channel: object, who: int, text: str = "我要退款") -> str:
    user = InboundUser(id=f"u-{who}", name=f"Customer {who}")
    received = await ingest(core, channel, inbound(channel, text=text, user=user))  # type: ignore[arg-type]
    return received.conversation.id


async def _pages(core: Core, query: dict[str, object], q: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        docs, cursor = await search_page(core, query, q, cursor=cursor, limit=limit)
        pages.append([d["_id"] for d in docs])
        if cursor is None:
            return pages


async def test_the_newest_matches_come_first_across_windows_and_years(
    core: Core, clock: ManualClock, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    old = []
    for i in range(3):
        clock.advance(1)
        old.append(await _say(core, channel, i))
    await _say(core, channel, 99, "nothing to find here")
    clock.advance(400 * DAY)
    hour = []
    for i in range(3, 7):
        hour.append(await _say(core, channel, i))
        clock.advance(600)  # ten minutes apart: the last hour
    recent = [await _say(core, channel, 7)]
    clock.advance(1)
    recent.append(await _say(core, channel, 8))
    clock.advance(-30)  # a message stamped a little ahead of this process's clock
    newest_first = [*reversed(recent), *reversed(hour), *reversed(old)]
    query = {"workspace_id": workspace_id}

    assert await _pages(core, query, "退款", 100) == [newest_first]
    assert await _pages(core, query, "退款", 4) == [newest_first[:4], newest_first[4:8], old[:1]]
    assert await _pages(core, query, "nowhere", 4) == [[]]
    assert await _pages(core, query, "?!", 4) == [[]]  # nothing to search for


async def test_a_repeated_search_starts_from_the_window_it_needed(
    core: Core, clock: ManualClock, workspace_id: str
) -> None:
    """The window a search needed is remembered (per process): the same search again, or
    its next page, reads it straight away, and still gets newer matches."""
    channel, _ = await api_channel(core, workspace_id)
    first = await _say(core, channel, 1, "invoice sku123")
    clock.advance(30 * DAY)
    query = {"workspace_id": workspace_id}
    assert await _pages(core, query, "sku123", 25) == [[first]]
    assert [w for k, (w, _) in _HINTS.items() if workspace_id in k[0]] == [None]  # all time
    second = await _say(core, channel, 2, "sku123 again")
    assert await _pages(core, query, "sku123", 25) == [[second, first]]
    clock.advance(11 * 60)  # the hint is forgotten: the search starts small again
    made = []
    for i in range(40):
        clock.advance(10)
        made.append(await _say(core, channel, 10 + i, "sku123 everywhere"))
    docs, cursor = await search_page(core, query, "sku123", cursor=None, limit=25)
    assert [d["_id"] for d in docs] == made[::-1][:25] and cursor is not None
    # Its page took 240 s back from now (+1 minute): 1.5 times that is read next time.
    [(span, _)] = [h for k, h in _HINTS.items() if workspace_id in k[0]]
    assert span == timedelta(seconds=(60 + 240) * 1.5)
    docs, _ = await search_page(core, query, "sku123", cursor=None, limit=25)
    assert [d["_id"] for d in docs] == made[::-1][:25]
