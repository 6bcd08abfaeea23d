"""What a consumer of `message.received` works with: the stored message and where it landed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kith.core.channel_records import load as load_channel
from kith.core.models import Channel, Conversation, Event, Message

if TYPE_CHECKING:
    from kith.core.context import Core


@dataclass(frozen=True)
class Received:
    """An inbound message as ingest stored it; `duplicate` for a redelivery answered from the
    store (nothing ran again)."""

    message: Message
    conversation: Conversation
    channel: Channel
    new_customer: bool
    new_conversation: bool
    reopened: bool
    duplicate: bool = False


async def load_received(core: Core, event: Event) -> Received | None:
    """The `Received` behind a `message.received` event, or None once it was erased."""
    store = core.store
    message = await store.messages.find_one({"_id": event.message_id})
    if message is None:
        return None
    conversation = await store.conversations.find_one({"_id": message["conversation_id"]})
    channel = await store.channels.find_one({"_id": message["channel_id"]})
    if conversation is None or channel is None:
        return None
    return Received(
        message=Message.from_doc(message),
        conversation=Conversation.from_doc(conversation),
        channel=load_channel(core, channel),
        new_customer=bool(event.data.get("new_customer")),
        new_conversation=bool(event.data.get("new_conversation")),
        reopened=bool(event.data.get("reopened")),
    )
