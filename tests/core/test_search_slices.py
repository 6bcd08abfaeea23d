"""A search reads the newest matching conversations first, page after page, whether its terms
are rare (read through the conversations holding them) or common (the list read in order)."""

from __future__ import annotations

import pytest

from kith.core import search
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import InboundUser
from kith.core.pipeline import ingest
from kith.core.search import search_page
from tests.support.cast import api_channel, inbound
from tests.support.consumers import indexed

DAY = 86_400.0


async def _say(core: Core, channel: object, who: int, text: str = "我要退款") -> str:
    user = InboundUser(id=f"u-{who}", name=f"Customer {who}")
    received = await ingest(core, channel, inbound(channel, text=text, user=user))  # type: ignore[arg-type]
    return received.conversation.id


async def _pages(
    core: Core, workspace_id: str, q: str, limit: int, **query: object
) -> list[list[str]]:
    await indexed(core)  # what was said is searchable once the search consumer has run
    pages: list[list[str]] = []
    cursor = None
    while True:
        docs, cursor = await search_page(
            core,
            workspace_id,
            {"workspace_id": workspace_id, **query},
            q,
            cursor=cursor,
            limit=limit,
        )
        pages.append([d["_id"] for d in docs])
        if cursor is None:
            return pages


@pytest.fixture(params=["rare", "common"])
def rare(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Each search once with its terms rare, once with every term common (held by more
    conversations than `RARE`)."""
    if request.param == "common":
        monkeypatch.setattr(search, "RARE", 2)
        monkeypatch.setattr(search, "FIRST_SCAN", 3)  # several rounds of the list
    return search.RARE


async def test_the_newest_matches_come_first_across_pages_and_years(
    core: Core, clock: ManualClock, workspace_id: str, rare: int
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
        await _say(core, channel, 50 + i, "我要换货")  # between the matches, never found
        clock.advance(600)
    recent = [await _say(core, channel, 7)]
    clock.advance(1)
    recent.append(await _say(core, channel, 8))
    newest_first = [*reversed(recent), *reversed(hour), *reversed(old)]

    assert await _pages(core, workspace_id, "退款", 100) == [newest_first]
    assert await _pages(core, workspace_id, "退款", 4) == [
        newest_first[:4],
        newest_first[4:8],
        newest_first[8:],
    ]
    assert await _pages(core, workspace_id, "nowhere", 4) == [[]]
    assert await _pages(core, workspace_id, "?!", 4) == [[]]  # nothing to search for
    assert await _pages(core, workspace_id, "要退", 2, status="resolved") == [[]]


async def test_every_term_must_be_held_rare_and_common_alike(
    core: Core, clock: ManualClock, workspace_id: str, rare: int
) -> None:
    """`invoice` is said everywhere, `sku123` in two conversations: only those holding both
    are found, and a term of the customer's profile counts like one of a message."""
    channel, _ = await api_channel(core, workspace_id)
    plain = []
    for i in range(4):
        plain.append(await _say(core, channel, i, f"invoice number {i}"))
        clock.advance(60)
    both = await _say(core, channel, 10, "invoice sku123 please")
    clock.advance(60)
    only_sku = await _say(core, channel, 11, "sku123")
    clock.advance(60)
    named = await _say(core, channel, 12, "my invoice")  # Customer 12

    assert await _pages(core, workspace_id, "sku123 invoice", 10) == [[both]]
    assert await _pages(core, workspace_id, "sku123", 10) == [[only_sku, both]]
    assert await _pages(core, workspace_id, "invoice 12", 10) == [[named]]
    assert await _pages(core, workspace_id, "invoice", 3) == [
        [named, both, plain[3]],
        [plain[2], plain[1], plain[0]],
    ]
    assert await _pages(core, workspace_id, "invoice number", 10, channel_id="other") == [[]]


async def test_one_chinese_character_finds_the_terms_it_starts_rare_and_common_alike(
    core: Core, clock: ManualClock, workspace_id: str, rare: int
) -> None:
    """ "退" alone finds 退款 and a lone 退 (the terms that start with it, read by their
    index), and where it ends a run ("我要退": the text keeps a run's last character), never
    the characters next to it in code order (送, 逃) nor 换货."""
    channel, _ = await api_channel(core, workspace_id)
    found = []
    for i, text in enumerate(("我要退款", "退。谢谢", "退货 please", "我要退款", "我要退")):
        found.append(await _say(core, channel, i, text))
        clock.advance(60)
    for i, text in enumerate(("送货", "逃跑", "换货")):
        await _say(core, channel, 10 + i, text)
        clock.advance(60)
    newest_first = list(reversed(found))

    assert await _pages(core, workspace_id, "退", 10) == [newest_first]
    assert await _pages(core, workspace_id, " 退？", 3) == [newest_first[:3], newest_first[3:]]
    assert await _pages(core, workspace_id, "退", 10, status="resolved") == [[]]
    assert await _pages(core, workspace_id, "退款", 10) == [[found[3], found[0]]]
