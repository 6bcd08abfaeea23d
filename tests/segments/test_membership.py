"""Membership kept by events (both lanes): every kind of event that moves a customer, the
segments an event cannot touch left alone, and entered/left recorded exactly once when a
consumer run is retried."""

from __future__ import annotations

from pymongo import InsertOne

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.customers import (
    do_erase_customer,
    do_merge_customers,
    do_update_customer,
    get_customer,
)
from kith.core.events import build_event, record
from kith.core.models import Event
from kith.core.pipeline import ingest
from kith.segments.membership import consume, customer_ids, member_id
from tests.segments.conftest import VIP, VIP_SHANGHAI, customer, members, moves, segment, size
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain
from tests.support.faults import refusing


async def tag(core: Core, workspace_id: str, cid: str, tags: list[str]) -> None:
    await do_update_customer(
        core, await get_customer(core, workspace_id, cid), fields={"tags": tags}
    )


async def test_a_tag_added_enters_and_removed_leaves(core: Core, workspace_id: str) -> None:
    vip = await segment(core, workspace_id, VIP)
    await customer(core, workspace_id, "c-ada")
    await drain(core)
    await tag(core, workspace_id, "c-ada", ["vip"])
    await drain(core)
    assert await members(core, vip.id) == {"c-ada"}
    assert await size(core, vip.id) == 1
    assert [c async for c in customer_ids(core, vip)] == ["c-ada"]
    await tag(core, workspace_id, "c-ada", [])
    await drain(core)
    assert await members(core, vip.id) == set()
    assert await size(core, vip.id) == 0
    assert await moves(core, vip.id) == [("entered", "c-ada"), ("left", "c-ada")]


async def test_a_created_customer_who_matches_enters(core: Core, workspace_id: str) -> None:
    both = await segment(core, workspace_id, VIP_SHANGHAI)
    await customer(core, workspace_id, "c-sh", tags=["vip"], attributes={"city": "上海"})
    await customer(core, workspace_id, "c-bj", tags=["vip"], attributes={"city": "北京"})
    await drain(core)
    assert await members(core, both.id) == {"c-sh"}


async def test_a_first_message_enters_a_channel_segment(core: Core, workspace_id: str) -> None:
    on_api = await segment(
        core, workspace_id, {"field": "channels", "op": "contains", "value": "api"}
    )
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "hi"))
    await drain(core)
    assert await members(core, on_api.id) == {received.message.customer_id}


async def test_an_update_that_names_no_field_read_is_skipped(core: Core, workspace_id: str) -> None:
    """A segment on tags is not evaluated for a name change: a row put there behind its back
    stays until the reconciliation (which is what shows the event skipped it)."""
    vip = await segment(core, workspace_id, VIP)
    await customer(core, workspace_id, "c-ada")
    await drain(core)
    await core.store.collection("segment_members").insert_one(
        {
            "_id": member_id(vip.id, "c-ada"),
            "segment_id": vip.id,
            "customer_id": "c-ada",
            "workspace_id": workspace_id,
        }
    )
    await do_update_customer(
        core, await get_customer(core, workspace_id, "c-ada"), fields={"name": "Ada"}
    )
    await drain(core)
    assert await members(core, vip.id) == {"c-ada"}
    await tag(core, workspace_id, "c-ada", ["regular"])
    await drain(core)
    assert await members(core, vip.id) == set()


async def test_a_merge_brings_the_survivor_in_and_keeps_sizes(
    core: Core, workspace_id: str
) -> None:
    both = await segment(core, workspace_id, VIP_SHANGHAI, name="VIP in 上海")
    vip = await segment(core, workspace_id, VIP, name="vip")
    await customer(core, workspace_id, "c-1", attributes={"city": "上海"})
    await customer(core, workspace_id, "c-2", tags=["vip"])
    await drain(core)
    assert await members(core, vip.id) == {"c-2"}
    await do_merge_customers(core, workspace_id, "c-1", "c-2")
    await drain(core)
    assert await members(core, both.id) == {"c-1"}
    assert await members(core, vip.id) == {"c-1"}
    assert (await size(core, both.id), await size(core, vip.id)) == (1, 1)


async def test_an_erased_customer_leaves_no_row_and_the_size_drops(
    core: Core, workspace_id: str
) -> None:
    vip = await segment(core, workspace_id, VIP)
    await customer(core, workspace_id, "c-ada", tags=["vip"])
    await customer(core, workspace_id, "c-bob", tags=["vip"])
    await drain(core)
    assert await size(core, vip.id) == 2
    await do_erase_customer(core, workspace_id, "c-ada")
    await drain(core)
    assert await members(core, vip.id) == {"c-bob"}
    assert await size(core, vip.id) == 1


async def test_a_merge_or_erasure_recounts_only_the_segments_that_lost_a_row(
    core: Core, workspace_id: str
) -> None:
    """Regression: every merge and erasure counted the rows of every segment in the workspace
    again. A size left wrong on purpose shows which segments were counted."""
    vip = await segment(core, workspace_id, VIP, name="vip")
    shanghai = await segment(
        core, workspace_id, {"field": "attributes.city", "op": "eq", "value": "上海"}, "sh"
    )
    await customer(core, workspace_id, "c-sh", attributes={"city": "上海"})
    await customer(core, workspace_id, "c-1", tags=["vip"])
    await customer(core, workspace_id, "c-2", tags=["vip"])
    await customer(core, workspace_id, "c-none")
    await drain(core)
    await core.store.collection("segments").update_one({"_id": shanghai.id}, {"$set": {"size": 99}})
    await do_merge_customers(core, workspace_id, "c-1", "c-2")
    await do_erase_customer(core, workspace_id, "c-none")
    await drain(core)
    assert await members(core, vip.id) == {"c-1"}
    assert (await size(core, vip.id), await size(core, shanghai.id)) == (1, 99)


async def test_consent_changed_moves_a_customer(core: Core, workspace_id: str) -> None:
    granted = await segment(
        core, workspace_id, {"field": "consent.email", "op": "eq", "value": "granted"}
    )
    await customer(core, workspace_id, "c-ada")
    await drain(core)
    for state, expected in (("granted", {"c-ada"}), ("revoked", set())):
        await core.store.customers.update_one(
            {"_id": "c-ada"}, {"$set": {"consent.email": {"state": state, "via": "link"}}}
        )
        changed = build_event(
            core, workspace_id, "consent.changed", customer_id="c-ada", data={"channel": "email"}
        )
        await record(core, changed)
        await drain(core)
        assert await members(core, granted.id) == expected
    assert await moves(core, granted.id) == [("entered", "c-ada"), ("left", "c-ada")]


async def test_sentiment_changed_moves_a_customer(core: Core, workspace_id: str) -> None:
    unhappy = await segment(
        core, workspace_id, {"field": "sentiment.trend", "op": "lt", "value": -0.3}
    )
    await customer(core, workspace_id, "c-ada")
    await drain(core)
    await core.store.customers.update_one(
        {"_id": "c-ada"}, {"$set": {"sentiment": {"score": -0.7, "samples": []}}}
    )
    await record(
        core, build_event(core, workspace_id, "customer.sentiment_changed", customer_id="c-ada")
    )
    await drain(core)
    assert await members(core, unhappy.id) == {"c-ada"}


BAD_VALUE = 2  # an engine's write error that no retry on conflict takes back


def _a_move(request: object) -> bool:
    return isinstance(request, InsertOne) and request._doc["type"].startswith("segment.")


async def test_a_retried_run_records_entered_and_left_once(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    """The consumer's run writes the row, then its event is refused (the engine's write
    error): the worker retries the event and the retry completes the move, once; more runs
    change nothing."""
    vip = await segment(core, workspace_id, VIP)
    await customer(core, workspace_id, "c-ada")
    await drain(core)
    for tags, expected in ((["vip"], [("entered", "c-ada")]), ([], [("left", "c-ada")])):
        await tag(core, workspace_id, "c-ada", tags)
        with refusing(core.store.events, _a_move, BAD_VALUE):
            await drain(core)
        assert await moves(core, vip.id) == []
        clock.advance(60)
        await drain(core)
        assert await moves(core, vip.id) == expected
        cause = (
            await core.store.events.find({"type": "customer.updated"})
            .sort("created_at", -1)
            .to_list(1)
        )
        await consume(core, Event.from_doc(cause[0]))
        assert await moves(core, vip.id) == expected
        await core.store.events.delete_many({"type": {"$in": ["segment.entered", "segment.left"]}})
    assert await size(core, vip.id) == 0


async def test_an_undone_merge_puts_both_customers_back(core: Core, workspace_id: str) -> None:
    """`customer.unmerged` (the contacts feature's undo) names the survivor and the restored
    customer: both are evaluated again."""
    vip = await segment(core, workspace_id, VIP)
    await customer(core, workspace_id, "c-1")
    await customer(core, workspace_id, "c-2", tags=["vip"])
    await drain(core)
    await do_merge_customers(core, workspace_id, "c-1", "c-2")
    await drain(core)
    assert await members(core, vip.id) == {"c-1"}
    restored = await core.store.customers.find_one({"_id": "c-1"})
    assert restored is not None
    await core.store.customers.replace_one({"_id": "c-2"}, {**restored, "_id": "c-2"})
    await core.store.customers.update_one({"_id": "c-1"}, {"$set": {"tags": []}})
    undone = build_event(
        core, workspace_id, "customer.unmerged", customer_id="c-1", data={"restored_id": "c-2"}
    )
    await record(core, undone)
    await drain(core)
    assert await members(core, vip.id) == {"c-2"}
    assert await size(core, vip.id) == 1
