"""From a courtesy route to the conversation a broadcast message is sent on."""

from __future__ import annotations

from kith.broadcasts.policy import Route
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.conversations import ensure_conversation
from kith.core.models import Conversation
from kith.core.threads import thread_key

# Where a platform's private thread with a user is named by the user's id itself.
OWN_CHAT_THREADS = frozenset({"telegram"})


async def conversation_for(core: Core, customer_id: str, route: Route) -> Conversation:
    """The customer's latest conversation with that identity on that channel, or their own
    thread (opened now) when they have none yet."""
    doc = await core.store.conversations.find_one(
        {
            "customer_id": customer_id,
            "channel_id": route.channel_id,
            "external_user_id": route.external_id,
        },
        sort=[("last_message_at", -1)],
    )
    if doc is not None:
        return Conversation.from_doc(doc)
    channel = await get_channel(core, None, route.channel_id, strict=False)
    own = route.external_id if route.channel_type in OWN_CHAT_THREADS else None
    thread = thread_key(own, route.external_id)
    return await ensure_conversation(core, channel, customer_id, thread, route.external_id)
