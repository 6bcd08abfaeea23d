"""What a conversation is found by: its messages' terms (notes left out) and its customer's
profile, kept right through replies, edits, profile changes and new conversations."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.conversation_terms import stored_terms
from kith.core.conversations import ensure_conversation, get_conversation
from kith.core.customers import do_update_customer, get_customer
from kith.core.models import Author, AuthorKind, InboundUser, OutboundContent
from kith.core.outbox import send
from kith.core.pipeline import ingest, ingest_edit
from kith.core.search import reindex, search_page
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain, indexed

AGENT = Author(kind=AuthorKind.agent, id="u-agent", name="Agent")
MEI = InboundUser(id="u-mei", name="韩梅梅", email="mei@example.cn", phone="+86 138 0013 8000")


async def _terms(core: Core, conversation_id: str) -> set[str]:
    """The terms stored for the conversation, one document each, and never in its own."""
    doc = await core.store.conversations.find_one({"_id": conversation_id})
    assert doc is not None and "terms" not in doc
    return await stored_terms(core, conversation_id)


async def test_messages_replies_and_profile_but_not_notes(core: Core, workspace_id: str) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, text="我要退款", user=MEI))
    conversation = received.conversation
    assert await _terms(core, conversation.id) == set()  # ingest leaves it to the consumer
    await indexed(core)
    terms = await _terms(core, conversation.id)
    assert {"退款", "梅梅", "mei@example.cn", "13800138000"} <= terms
    await send(core, conversation, OutboundContent(text="already shipped"), AGENT)
    await send(core, conversation, OutboundContent(text="angry", private=True), AGENT)
    terms = await _terms(core, conversation.id)
    assert "shipped" in terms and "angry" not in terms


async def test_edits_and_renames_drop_the_old_terms(core: Core, workspace_id: str) -> None:
    channel, _ = await api_channel(core, workspace_id)
    sent = inbound(channel, text="first words", user=MEI, message_id="m-edit")
    conversation = (await ingest(core, channel, sent)).conversation
    await ingest_edit(core, channel, "m-edit", "second thoughts")
    terms = await _terms(core, conversation.id)
    assert {"second", "thoughts"} <= terms and not {"first", "words"} & terms
    customer = await get_customer(core, workspace_id, conversation.customer_id)
    await do_update_customer(core, customer, fields={"name": "Li Lei"})
    await drain(core)
    terms = await _terms(core, conversation.id)
    assert {"li", "lei", "second"} <= terms and "梅梅" not in terms


async def test_a_new_conversation_of_a_known_customer_has_their_profile(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    first = (await ingest(core, channel, inbound(channel, text="hi", user=MEI))).conversation
    customer = await get_customer(core, workspace_id, first.customer_id)
    await do_update_customer(core, customer, fields={"name": "Mei Han"})
    await drain(core)
    greeted = await ensure_conversation(core, channel, first.customer_id, "group:g1", None)
    assert {"mei", "han", "mei@example.cn"} <= await _terms(core, greeted.id)
    again = inbound(channel, text="again", user=MEI, thread="t2")
    other = (await ingest(core, channel, again)).conversation
    await drain(core)  # a known customer's profile comes with the search consumer
    assert {"again", "mei", "han"} <= await _terms(core, other.id)
    assert (await get_conversation(core, workspace_id, other.id)).id != first.id


async def test_terms_a_conversation_held_itself_are_moved_out_by_reindex(
    core: Core, workspace_id: str
) -> None:
    """Conversations once kept their terms in their own document: `reindex` moves them."""
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, text="kettle"))
    conversation_id = received.conversation.id
    await core.store.conversation_terms.delete_many({})
    await core.store.conversations.update_one(
        {"_id": conversation_id}, {"$set": {"terms": ["kettle", "descaling"]}}
    )

    counts = await reindex(core)

    assert counts == {"messages": 0, "customers": 0, "conversations": 1}
    assert await _terms(core, conversation_id) == {"kettle", "descaling"}
    found, _ = await search_page(
        core, workspace_id, {"workspace_id": workspace_id}, "descaling", cursor=None, limit=5
    )
    assert [d["_id"] for d in found] == [conversation_id]
    assert await reindex(core) == {"messages": 0, "customers": 0, "conversations": 0}
