"""The demo's broadcasts: last week's, sent through the worker with clicks on its tracked link
(so the stats show Clicked); and the draft to the "VIP in 上海" segment, else to whom its
filter selects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from kith.broadcasts.actions import list_broadcasts
from kith.broadcasts.audience import recipients
from kith.broadcasts.demo import seed_demo_broadcast
from kith.broadcasts.models import Broadcast, Status
from kith.core.context import Core


async def listed(core: Core, workspace_id: str, status: Status) -> list[Broadcast]:
    items, _ = await list_broadcasts(core, workspace_id, cursor=None, limit=10)
    return [b for b in items if b.status == status]


async def test_without_the_segment_the_filter_selects_the_audience(
    bcore: Core, people: Callable[..., Any], workspace_id: str
) -> None:
    await seed_demo_broadcast(bcore, workspace_id)
    assert (await list_broadcasts(bcore, workspace_id, cursor=None, limit=5))[0] == []
    li, _ = await people(2)
    await bcore.store.customers.update_one(
        {"_id": li.id}, {"$set": {"tags": ["vip"], "attributes": {"city": "上海"}}}
    )
    await seed_demo_broadcast(bcore, workspace_id)
    (draft,) = await listed(bcore, workspace_id, Status.draft)
    assert draft.customer_ids == [li.id] and draft.segment_id is None
    assert draft.channels == ["webchat", "api"]


async def test_the_segment_is_the_audience_when_the_demo_has_it(
    bcore: Core, workspace_id: str
) -> None:
    segment = {"_id": "s1", "workspace_id": workspace_id, "name": "VIP in 上海", "filter": {}}
    await bcore.store.collection("segments").insert_one(segment)
    await seed_demo_broadcast(bcore, workspace_id)
    (draft,) = await listed(bcore, workspace_id, Status.draft)
    assert draft.segment_id == "s1"


async def test_last_weeks_broadcast_was_sent_and_clicked(
    bcore: Core, people: Callable[..., Any], workspace_id: str
) -> None:
    """To the API channel's customers, a week ago, out of quiet hours; every other recipient
    clicked (once each), and the messages carry tracked links; the conversations' list still
    shows each one's latest message."""
    customers = await people(5)
    await seed_demo_broadcast(bcore, workspace_id)
    (sent,) = await listed(bcore, workspace_id, Status.done)
    assert sent.started_at is not None
    assert sent.started_at < bcore.clock.now() - timedelta(days=6)
    assert (sent.stats.targeted, sent.stats.sent, sent.stats.clicked) == (5, 5, 3)
    assert sent.customer_ids == sorted(c.id for c in customers)
    clicked = {"broadcast_id": sent.id, "clicked_at": {"$ne": None}}
    assert await recipients(bcore).count_documents(clicked) == 3
    mine = {"customer_id": customers[0].id, "purpose": "marketing"}
    message = await bcore.store.messages.find_one(mine)
    assert message is not None and "/l/b/" in message["text"]
    assert "/l/b/" in message["buttons"][0]["url"]
    assert "shop.example" not in message["text"]
    # Last week's message is not the conversations' latest: their previews are as they were.
    previews = await bcore.store.conversations.distinct("preview.text", {})
    assert previews == ["hi"]
