"""`Core`: the collaborators every action needs, built once by the application."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from kith.core.channels import ChannelRegistry
from kith.core.clock import Clock, SystemClock
from kith.core.hooks import Hooks
from kith.core.settings import Settings
from kith.core.storage import Store

if TYPE_CHECKING:
    from kith.core.models import Event


@dataclass
class Core:
    """Store, clock, settings and registries. Actions take it as their first argument.

    `event_listeners` are called (synchronously, so they must only enqueue) with every event
    this process appends to the log: the in-process feed of the real-time inbox.
    `background` holds the loops features need (`loop(stop)`), run by `kith serve`.
    """

    store: Store
    settings: Settings
    channels: ChannelRegistry = field(default_factory=ChannelRegistry)
    hooks: Hooks = field(default_factory=Hooks)
    clock: Clock = field(default_factory=SystemClock)
    http: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(timeout=httpx.Timeout(15.0))
    )
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    event_listeners: list[Callable[[Event], None]] = field(default_factory=list)
    background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(
        default_factory=list
    )

    @classmethod
    def from_settings(cls, settings: Settings, **kw: object) -> Core:
        return cls(store=Store.from_settings(settings), settings=settings, **kw)  # type: ignore[arg-type]

    async def start(self) -> None:
        await self.store.ensure_indexes()

    async def close(self) -> None:
        await self.http.aclose()
        await self.store.close()
