"""Registered hooks: how bots, NLP, sequences and community features react to new messages.

`core` imports none of them; each registers a coroutine here. A failing hook is logged and
counted, and breaks neither ingest nor the other hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kith.core import metrics

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel, ChannelEvent, Conversation, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    """What ingest hands to hooks: the stored message and where it landed."""

    message: Message
    conversation: Conversation
    channel: Channel
    new_customer: bool
    new_conversation: bool
    reopened: bool
    duplicate: bool = False


MessageHook = Callable[["Core", Received], Awaitable[None]]
EventHook = Callable[["Core", "ChannelEvent", str], Awaitable[None]]


class Hooks:
    def __init__(self) -> None:
        self._on_message: list[tuple[str, MessageHook]] = []
        self._on_event: list[tuple[str, EventHook]] = []

    def on_channel_event(self, hook: EventHook, *, name: str | None = None) -> EventHook:
        """Run `hook(core, event, customer_id)` once per non-message channel event."""
        self._on_event.append((name or str(getattr(hook, "__qualname__", hook)), hook))
        return hook

    async def run_event_hooks(self, core: Core, event: ChannelEvent, customer_id: str) -> None:
        for name, hook in self._on_event:
            try:
                await hook(core, event, customer_id)
            except Exception:
                metrics.HOOK_ERRORS.labels(hook=name).inc()
                log.exception("event hook %s failed", name, extra={"hook": name})

    def on_message(self, hook: MessageHook, *, name: str | None = None) -> MessageHook:
        """Run `hook` after every inbound message is stored (once per message)."""
        self._on_message.append((name or str(getattr(hook, "__qualname__", hook)), hook))
        return hook

    async def run_message_hooks(self, core: Core, received: Received) -> None:
        for name, hook in self._on_message:
            try:
                await hook(core, received)
            except Exception:
                metrics.HOOK_ERRORS.labels(hook=name).inc()
                log.exception("message hook %s failed", name, extra={"hook": name})
