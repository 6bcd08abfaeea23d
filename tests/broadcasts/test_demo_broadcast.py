"""The demo's draft broadcast: to the "VIP in 上海" segment, else to whom its filter selects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kith.broadcasts.actions import list_broadcasts
from kith.broadcasts.demo import seed_demo_broadcast
from kith.core.context import Core


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
    (draft,), _ = await list_broadcasts(bcore, workspace_id, cursor=None, limit=5)
    assert draft.customer_ids == [li.id] and draft.segment_id is None
    assert draft.channels == ["webchat", "api"]


async def test_the_segment_is_the_audience_when_the_demo_has_it(
    bcore: Core, workspace_id: str
) -> None:
    segment = {"_id": "s1", "workspace_id": workspace_id, "name": "VIP in 上海", "filter": {}}
    await bcore.store.collection("segments").insert_one(segment)
    await seed_demo_broadcast(bcore, workspace_id)
    (draft,), _ = await list_broadcasts(bcore, workspace_id, cursor=None, limit=5)
    assert draft.segment_id == "s1"
