"""Conversation changes: labels edited by two agents at once both stay."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.conversations import do_update_conversation, get_conversation, list_conversations
from kith.core.models import Priority
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound


async def test_two_agents_labelling_from_the_same_view_keep_both_labels(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "hello"))
    seen = await do_update_conversation(core, received.conversation, labels=["billing", "vip"])

    # Both agents opened the conversation when it had billing and vip.
    await do_update_conversation(core, seen, labels=["billing", "vip", "refund"])
    await do_update_conversation(core, seen, labels=["vip", "urgent"], priority=Priority.high)

    now = await get_conversation(core, workspace_id, seen.id)
    assert sorted(now.labels) == ["refund", "urgent", "vip"]
    assert now.priority == Priority.high
    events = core.store.events.find({"conversation_id": seen.id}).sort("created_at", 1)
    changed = [e for e in await events.to_list(None) if e["type"] == "conversation.labels_changed"]
    assert sorted(changed[-1]["data"]["labels"]) == ["refund", "urgent", "vip"]


async def test_labels_given_in_another_order_change_nothing(core: Core, workspace_id: str) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "hello"))
    seen = await do_update_conversation(core, received.conversation, labels=["a", "b", "a"])
    assert seen.labels == ["a", "b"]

    again = await do_update_conversation(core, seen, labels=["b", "a"])

    assert again == seen
    assert (
        await core.store.events.count_documents(
            {"conversation_id": seen.id, "type": "conversation.labels_changed"}
        )
        == 1
    )


async def test_a_label_is_one_whatever_its_case_and_found_by_any(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "hello"))
    seen = await do_update_conversation(
        core, received.conversation, labels=["VIP", " vip", "Straße"]
    )
    assert seen.labels == ["vip", "strasse"]

    for typed in ("VIP", "vip", "STRASSE"):
        found, _ = await list_conversations(core, workspace_id, label=typed)
        assert [c.id for c in found] == [seen.id], typed


async def test_a_label_stored_before_folding_is_found_as_typed_and_folded_when_edited(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "hello"))
    conversations = core.store.collection("conversations")
    await conversations.update_one({"_id": received.conversation.id}, {"$set": {"labels": ["VIP"]}})
    old = await get_conversation(core, workspace_id, received.conversation.id)

    assert [c.id for c in (await list_conversations(core, workspace_id, label="VIP"))[0]] == [
        old.id
    ]
    edited = await do_update_conversation(core, old, labels=[*old.labels, "refund"])
    assert edited.labels == ["vip", "refund"]
    assert (await get_conversation(core, workspace_id, old.id)).labels == ["vip", "refund"]
