"""Numbered menus: the customer's "2" is a press of our last message's second button.

Customer-service text has no buttons, so the sender renders them as "1. Track order"
lines; this is the way back, so bots see a button press (`payload`) as on other channels.
"""

from __future__ import annotations

import unicodedata

from kith.core.context import Core
from kith.core.models import Channel, Direction, InboundMessage
from kith.core.threads import conversation_id, thread_key


def menu_choice(text: str) -> int | None:
    """The number typed, full-width digits included ("２" on a Chinese keyboard)."""
    typed = unicodedata.normalize("NFKC", text).strip().rstrip(".。")
    return int(typed) if typed.isdecimal() and len(typed) <= 2 else None


async def pressed_payload(core: Core, channel: Channel, inbound: InboundMessage) -> str | None:
    """The payload of the button numbered by the reply, if our latest message had one."""
    choice = menu_choice(inbound.text)
    if choice is None or choice < 1:
        return None
    thread = thread_key(inbound.thread_key, inbound.user.id)
    latest = await core.store.messages.find_one(
        {
            "conversation_id": conversation_id(channel.workspace_id, channel.id, thread),
            "direction": Direction.outbound.value,
            "private": False,
        },
        {"buttons": 1},
        sort=[("created_at", -1), ("_id", -1)],  # ObjectIds break ties within a millisecond
    )
    buttons = (latest or {}).get("buttons") or []
    if choice > len(buttons):
        return None
    payload = buttons[choice - 1].get("payload")
    return str(payload) if payload else None
