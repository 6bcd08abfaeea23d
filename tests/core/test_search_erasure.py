"""Erasing a customer takes them out of search: their conversations lose every term, a group
they spoke in loses their words and profile but keeps the others', and terms a consumer run
adds just after the erasure go too."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.conversation_terms import stored_terms
from kith.core.customers import do_erase_customer
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound
from tests.support.consumers import indexed
from tests.support.faults import racing


async def test_their_conversations_and_their_words_in_a_group_leave_search(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    own = (await ingest(core, channel, inbound(channel, "ada", "my kettle leaks"))).conversation
    grace = inbound(channel, "grace", "any descaling tips", thread="group:kettles")
    group = (await ingest(core, channel, grace)).conversation
    ada = inbound(channel, "ada", "citric acid works", thread="group:kettles")
    assert (await ingest(core, channel, ada)).conversation.id == group.id
    await indexed(core)
    assert {"kettle", "lovelace", "ada@example.com"} <= await stored_terms(core, own.id)
    assert {"citric", "descaling", "hopper"} <= await stored_terms(core, group.id)

    await do_erase_customer(core, workspace_id, own.customer_id)

    assert await stored_terms(core, own.id) == set()
    terms = await stored_terms(core, group.id)
    assert {"descaling", "tips", "grace", "hopper"} <= terms  # Grace's words and profile
    assert not {"citric", "acid", "lovelace", "ada@example.com"} & terms


async def test_terms_a_consumer_run_adds_just_after_the_erasure_are_dropped(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    first = await ingest(core, channel, inbound(channel, "ada", "my kettle leaks"))
    await indexed(core)
    await ingest(core, channel, inbound(channel, "ada", "still dripping badly"))

    async def erase() -> None:  # lands after the run read the message, before it adds terms
        await do_erase_customer(core, workspace_id, first.message.customer_id)

    with racing(core.store.conversation_terms, "bulk_write", erase):
        await indexed(core)

    assert await core.store.conversations.count_documents({}) == 0
    assert await core.store.conversation_terms.count_documents({}) == 0
