"""`Core`: the collaborators every action needs, built once by the application."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import httpx

from kith.core.channels import ChannelRegistry
from kith.core.clock import Clock, SystemClock
from kith.core.consumers import ConsumerNews, Consumers
from kith.core.egress import EgressPolicy, http_client
from kith.core.identity_cache import IdentityCache
from kith.core.settings import Settings
from kith.core.storage import Store

if TYPE_CHECKING:
    from kith.core.features import Feature
    from kith.core.models import Event
    from kith.core.timers import TimerHandler


@dataclass
class Core:
    """Store, clock, settings and what the installed features add. Actions take it as their
    first argument.

    `features` are installed with `kith.core.features.install`, which fills `channels`,
    `consumers`, `timer_handlers`, `event_listeners` and `background` from them.
    `event_listeners` are called (synchronously, so they must only enqueue) with every event
    this process appends to the log: the in-process feed of the real-time inbox.
    `background` holds the loops features need (`loop(stop)`), run by `kith serve`.
    `identity_cache` keeps senders' customers between their messages (`kith.core.identity_cache`).
    `http` and `egress` reach the outside only where `KITH_EGRESS_ALLOW` lets them
    (`kith.core.egress`); tests hand their own `http` to reach fakes in process.
    """

    store: Store
    settings: Settings
    channels: ChannelRegistry = field(default_factory=ChannelRegistry)
    consumers: Consumers = field(default_factory=Consumers)
    clock: Clock = field(default_factory=SystemClock)
    # Unset: the guarded client of `core.egress`, built from the settings in __post_init__.
    http: httpx.AsyncClient = field(default=cast(httpx.AsyncClient, None))
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    consumer_news: ConsumerNews = field(default_factory=ConsumerNews)
    features: list[Feature] = field(default_factory=list)
    timer_handlers: dict[str, TimerHandler] = field(default_factory=dict)
    event_listeners: list[Callable[[Event], None]] = field(default_factory=list)
    background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(
        default_factory=list
    )
    identity_cache: IdentityCache = field(default_factory=IdentityCache)

    egress: EgressPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.egress = EgressPolicy.from_settings(self.settings)
        if self.http is None:
            self.http = http_client(self.egress)
        self.event_listeners.append(self.identity_cache.on_event)

    @classmethod
    def from_settings(cls, settings: Settings, **kw: object) -> Core:
        return cls(store=Store.from_settings(settings), settings=settings, **kw)  # type: ignore[arg-type]

    async def start(self) -> None:
        await self.store.ensure_indexes(
            [(i.collection, i.keys, i.options) for f in self.features for i in f.indexes]
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.store.close()
