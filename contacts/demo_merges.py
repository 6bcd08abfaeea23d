"""`kith demo`'s sample for merge suggestions: Ada wrote to the shop's API channel and now
chats on the website widget with the same email, so the Contacts page suggests merging her."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.models import Channel, InboundMessage, InboundUser
from kith.core.pipeline import ingest


async def seed_merge_suggestion(core: Core, channel: Channel) -> None:
    """A second Ada, on `channel`, sharing the demo Ada's email (ada@example.com)."""
    await ingest(
        core,
        channel,
        InboundMessage.on(
            channel,
            channel_message_id="demo-merge-ada",
            user=InboundUser(id="ada-widget", name="Ada L.", email="ada@example.com"),
            text="Hello again, it's Ada, now on your website.",
        ),
    )
