"""The identity cache: a known sender's next message skips the identity read, and a merge,
an undone merge or an erasure, in this process or another, never leaves a message on the
wrong customer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kith.contacts.merges import do_undo_merge
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.customers import do_erase_customer, do_merge_customers
from kith.core.identity_cache import TTL, IdentityCache, Known
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound
from tests.support.faults import failing, failing_finds


async def test_a_known_sender_is_not_read_again(core: Core, workspace_id: str) -> None:
    channel, _ = await api_channel(core, workspace_id)
    first = await ingest(core, channel, inbound(channel, "ada", "one"))

    with failing_finds(core.store.identities):  # any identity read would raise
        second = await ingest(core, channel, inbound(channel, "ada", "two"))

    assert second.message.customer_id == first.message.customer_id
    assert not second.new_customer and second.conversation.unread_count == 2


async def test_an_entry_older_than_the_ttl_is_read_again(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", "one"))
    clock.advance(TTL.total_seconds())

    with failing_finds(core.store.identities), pytest.raises(ConnectionError):
        await ingest(core, channel, inbound(channel, "ada", "two"))


async def test_a_second_message_within_a_minute_writes_no_last_seen(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    """First contact wrote the profile's `last_seen`; the next message has nothing to add."""
    channel, _ = await api_channel(core, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", "one"))
    clock.advance(10)

    with failing(core.store.customers, "bulk_write"):  # a profile write would raise
        await ingest(core, channel, inbound(channel, "ada", "two"))


async def test_a_merge_in_another_process_moves_the_next_message_at_once(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    web, _ = await api_channel(core, workspace_id, "Web")
    app, _ = await api_channel(core, workspace_id, "App")
    survivor = (await ingest(core, web, inbound(web, "ada", "on the web"))).message.customer_id
    other = (await ingest(core, app, inbound(app, "ada", "in the app"))).message.customer_id
    await ingest(core, app, inbound(app, "ada", "cached now"))

    await do_merge_customers(second_process, workspace_id, survivor, other)  # not seen here
    later = await ingest(core, app, inbound(app, "ada", "after the merge"))

    assert later.message.customer_id == survivor
    assert later.conversation.customer_id == survivor
    assert await core.store.messages.count_documents({"customer_id": other}) == 0
    stored = await core.store.events.find_one({"message_id": later.message.id})
    assert stored is not None and stored["customer_id"] == survivor


async def test_an_undone_merge_in_another_process_moves_the_sender_back(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    web, _ = await api_channel(core, workspace_id, "Web")
    app, _ = await api_channel(core, workspace_id, "App")
    survivor = (await ingest(core, web, inbound(web, "ada", "on the web"))).message.customer_id
    other = (await ingest(core, app, inbound(app, "ada", "in the app"))).message.customer_id
    await do_merge_customers(core, workspace_id, survivor, other, merge_id="merge-1")
    on_survivor = await ingest(core, app, inbound(app, "ada", "cached on the survivor"))
    assert on_survivor.message.customer_id == survivor

    await do_undo_merge(second_process, workspace_id, "merge-1")
    later = await ingest(core, app, inbound(app, "ada", "after the undo"))

    assert later.message.customer_id == other


async def test_an_erasure_in_another_process_makes_the_next_message_a_new_customer(
    core: Core, second_process: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    first = await ingest(core, channel, inbound(channel, "ada", "one"))
    await ingest(core, channel, inbound(channel, "ada", "two"))

    await do_erase_customer(second_process, workspace_id, first.message.customer_id)
    again = await ingest(core, channel, inbound(channel, "ada", "I am back"))

    assert again.new_customer and again.message.customer_id != first.message.customer_id
    assert await core.store.customers.find_one({"_id": again.message.customer_id}) is not None
    assert await core.store.messages.count_documents({}) == 1


async def test_a_merge_or_erasure_in_this_process_clears_the_cache(
    core: Core, workspace_id: str
) -> None:
    web, _ = await api_channel(core, workspace_id, "Web")
    app, _ = await api_channel(core, workspace_id, "App")
    survivor = (await ingest(core, web, inbound(web, "ada", "on the web"))).message.customer_id
    other = (await ingest(core, app, inbound(app, "ada", "in the app"))).message.customer_id
    assert len(core.identity_cache) == 2

    await do_merge_customers(core, workspace_id, survivor, other)
    assert len(core.identity_cache) == 0
    later = await ingest(core, app, inbound(app, "ada", "after the merge"))
    assert later.message.customer_id == survivor

    await do_erase_customer(core, workspace_id, survivor)
    assert len(core.identity_cache) == 0
    again = await ingest(core, app, inbound(app, "ada", "I am back"))
    assert again.new_customer


async def test_in_a_group_thread_each_sender_keeps_their_own_customer(
    core: Core, workspace_id: str
) -> None:
    """The conversation names whoever opened the thread; the others' identities are read."""
    channel, _ = await api_channel(core, workspace_id)
    ada = await ingest(core, channel, inbound(channel, "ada", "hi all", thread="group-1"))
    for _ in range(2):
        grace = await ingest(core, channel, inbound(channel, "grace", "hello", thread="group-1"))
        again = await ingest(core, channel, inbound(channel, "ada", "again", thread="group-1"))
        assert grace.message.customer_id != ada.message.customer_id
        assert again.message.customer_id == ada.message.customer_id


def test_an_answer_read_before_a_clear_is_not_kept() -> None:
    """An identity read, then a merge or erasure clears the cache, then the read's answer
    comes to be kept: it may name the customer that is gone."""
    cache = IdentityCache()
    now = ManualClock().now()
    before = cache.generation
    cache.clear()
    cache.put(("conversation", "u-ada"), Known("customer", now, now), before)
    assert cache.get(("conversation", "u-ada"), now) is None


def test_the_cache_keeps_the_newest_entries_up_to_its_bound() -> None:
    cache = IdentityCache(max_entries=2)
    now = ManualClock().now()
    for n in range(3):
        cache.put((f"c{n}", "u"), Known(f"customer {n}", now, now), cache.generation)
    assert len(cache) == 2
    assert cache.get(("c0", "u"), now) is None
    assert cache.get(("c2", "u"), now + timedelta(seconds=1)) is not None
