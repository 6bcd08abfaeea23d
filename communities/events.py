"""The `community.*` events: each is recorded once per cause (its id derives from the type and
a key naming the cause), on the group's conversation, with the community in its data."""

from __future__ import annotations

from typing import Any

from kith.communities.models import Community
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.ids import derived_id
from kith.core.models import Author, AuthorKind

KITH = Author(kind=AuthorKind.system, name="Kith")


async def note(
    core: Core,
    community: Community,
    type_: str,
    key: str,
    data: dict[str, Any],
    customer_id: str | None = None,
    *,
    actor: Author = KITH,
    message_id: str | None = None,
) -> None:
    """Record `type_` once per `key`."""
    event = build_event(
        core,
        community.workspace_id,
        type_,
        actor=actor,
        event_id=derived_id("community-event", type_, key),
        conversation_id=community.conversation_id,
        customer_id=customer_id,
        message_id=message_id,
        data={"community_id": community.id, **data},
    )
    await record(core, event)
