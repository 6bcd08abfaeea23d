""" "李娜 is typing…" in the widget: an agent of the team typing a reply in the conversation.

The inbox reports each agent's presence on a conversation (`kith.web.inbox.presence`: a
`presence` document per agent, `viewing`, `typing` a reply or `noting` a private note, that
expires unless renewed, and a `presence.changed` event when it changes). The widget's stream
reads the documents of its own conversation when such an event comes and, while it shows
someone typing, every `RECHECK` seconds, so the indicator goes when the presence expires
even if the agent's tab vanished without a word. A note being typed is never shown.

The widget names only a person it already names: one whose reply it has shown in this
conversation. Anyone else types as the business (the widget's title), as API replies read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kith.connectors.webchat.views import business_name, visible_filter, widget_author
from kith.core.clock import aware, wall
from kith.core.context import Core
from kith.core.models import Channel, Direction

RECHECK = 5.0  # seconds between looks at the presence while the widget shows someone typing
TYPING = "typing"  # the inbox's state for a reply being typed (`noting`: a private note)


class Typing(BaseModel):
    """One `typing` frame of the widget's stream: who types, or nobody (`name` None)."""

    name: str | None = Field(description="Who types, as the widget names them; None: nobody.")
    expires_in: float = Field(
        default=0, description="Seconds the indicator lasts unless a new frame renews it."
    )


async def typing_now(core: Core, channel: Channel, conversation_id: str) -> Typing:
    now = wall(core.clock).now()
    docs = (
        await core.store.collection("presence")
        .find({"conversation_id": conversation_id, "state": TYPING, "expires_at": {"$gt": now}})
        .to_list(20)
    )
    if not docs:
        return Typing(name=None)
    business = business_name(channel)
    best: tuple[str, dict[str, Any]] | None = None
    for doc in sorted(docs, key=lambda d: str(d.get("user_id"))):
        name = await _shown_name(core, channel, conversation_id, str(doc.get("user_id")))
        if best is None or (best[0] == business and name != business):
            best = (name, doc)
    assert best is not None
    left = (aware(best[1]["expires_at"]) - now).total_seconds()
    return Typing(name=best[0], expires_in=round(max(left, 1.0), 1))


async def _shown_name(core: Core, channel: Channel, conversation_id: str, user_id: str) -> str:
    """The agent's name as their last reply shown in the widget says it, else the business's."""
    business = business_name(channel)
    doc = await core.store.messages.find_one(
        {
            **visible_filter(conversation_id),
            "direction": Direction.outbound.value,
            "author.id": user_id,
        },
        {"author": 1},
        sort=[("created_at", -1)],
    )
    if doc is None:
        return business
    return widget_author(doc.get("author", {}), business).name or business
