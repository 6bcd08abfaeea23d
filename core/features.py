"""The Feature interface: everything a feature adds to Kith, declared in one object.

A feature (bots, sentiment, each connector, and every one to come) is a `Feature` listed
where the application is put together (`kith.web.app.features`); `install()` wires it into a
`Core`. Nothing is registered by importing a module, so what runs is what that list says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kith.core.collection import IndexOptions

if TYPE_CHECKING:
    import asyncio

    from kith.core.channels import ChannelType
    from kith.core.consumers import Consumer
    from kith.core.context import Core
    from kith.core.jobs import JobKind
    from kith.core.models import Channel, Event, Message
    from kith.core.timers import TimerHandler
    from kith.segments.filters import FieldSpec

Background = Callable[["asyncio.Event"], Coroutine[Any, Any, None]]
# Whether a feature answers an inbound message itself (consent keywords), so bots stay quiet.
Answers = Callable[["Core", "Message"], Coroutine[Any, Any, bool]]
# Why a message that is only this word is the feature's to answer in a workspace (`STOP`
# changes consent), or None: read where a word is configured to mean something else, such as
# a bot's keyword trigger, which such a word would never fire.
KeywordClaim = Callable[["Core", str, str], Coroutine[Any, Any, str | None]]
# When the people behind a channel are next in (the bots' business hours), or None while they
# are in or no hours are known: what a channel tells a customer waiting for a person.
Opening = Callable[["Core", "Channel"], Coroutine[Any, Any, "datetime | None"]]
# Run once their documents are deleted, by an eraser that must look again then (data derived
# from theirs, which a consumer run in flight may still write, or which outlives them).
Sweep = Callable[[], Coroutine[Any, Any, None]]
# Run before a customer's documents are deleted (`kith.core.customers.do_erase_customer`):
# (core, workspace id, the customer's ids) scrubs what names them outside `customer_data`;
# what it returns, if anything, runs after the deletions.
Eraser = Callable[["Core", str, list[str]], Coroutine[Any, Any, Sweep | None]]


@dataclass(frozen=True)
class Index:
    """An index a feature relies on, created idempotently at start-up."""

    collection: str
    keys: tuple[tuple[str, int], ...]
    options: IndexOptions = field(default_factory=lambda: IndexOptions())


@dataclass(frozen=True)
class CustomerData:
    """A collection holding a customer's personal data, found by `field`: erased with the
    customer, and moved to the survivor when two customers are merged (or, with
    `merge_moves=False`, dropped: data the feature derives again for the survivor, whose
    unique keys a move would break)."""

    collection: str
    field: str = "customer_id"
    merge_moves: bool = True


@dataclass(frozen=True)
class Searchable:
    """A collection whose documents carry search `terms` made from some of their `fields`
    (`terms_of(doc)`): `kith search reindex` gives those stored without terms theirs."""

    collection: str
    fields: tuple[str, ...]
    terms_of: Callable[[dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Feature:
    """What one feature adds. `steps` are bot step types (read by the bots feature);
    `background` loops run in `kith serve` (`loop(stop)`); `listeners` see every event this
    process records (synchronously: they may only enqueue); `answers` tell the bot engine
    which inbound messages the feature answers itself (it leaves them alone), and
    `keywords` which whole-message words it answers (so that no bot listens for them);
    `segment_fields` are the customer fields the feature lets segments filter on (orders,
    community membership …); `prepare` is blocking set-up (loading a model) that a process
    running the workers does in a thread before it serves, so that the first message does
    not stall the event loop while it imports. `sealed` names the collections whose documents
    keep secrets sealed with `KITH_SECRET_KEY` (`kith.core.sealing`), so that `kith secrets
    reseal` moves them to a new key."""

    name: str
    channel_types: tuple[ChannelType, ...] = ()
    indexes: tuple[Index, ...] = ()
    customer_data: tuple[CustomerData, ...] = ()
    timers: Mapping[str, TimerHandler] = field(default_factory=dict)
    consumers: tuple[Consumer, ...] = ()
    listeners: tuple[Callable[[Event], None], ...] = ()
    background: tuple[Background, ...] = ()
    routers: tuple[Any, ...] = ()
    steps: tuple[Any, ...] = ()
    answers: tuple[Answers, ...] = ()
    keywords: tuple[KeywordClaim, ...] = ()
    segment_fields: tuple[FieldSpec, ...] = ()
    jobs: tuple[JobKind, ...] = ()  # kinds of durable job (kith.core.jobs) it runs
    erasers: tuple[Eraser, ...] = ()  # personal data a customer's erasure must reach
    prepare: tuple[Callable[[], None], ...] = ()
    sealed: tuple[str, ...] = ()
    searchable: tuple[Searchable, ...] = ()  # collections `kith search reindex` fills in
    opening: tuple[Opening, ...] = ()  # when a channel's team is next in (business hours)


def install(core: Core, features: list[Feature]) -> None:
    """Wire `features` into `core`, in order; a name installed twice is a mistake."""
    for feature in features:
        if any(f.name == feature.name for f in core.features):
            raise ValueError(f"feature {feature.name!r} is installed twice")
        core.features.append(feature)
        for channel_type in feature.channel_types:
            core.channels.register(channel_type)
        for kind, handler in feature.timers.items():
            if kind in core.timer_handlers:
                raise ValueError(f"timer kind {kind!r} is declared twice")
            core.timer_handlers[kind] = handler
        for job_kind in feature.jobs:
            if any(job_kind.name == k.name for f in core.features[:-1] for k in f.jobs):
                raise ValueError(f"job kind {job_kind.name!r} is declared twice")
        for consumer in feature.consumers:
            core.consumers.add(consumer)
        core.event_listeners.extend(feature.listeners)
        core.background.extend(feature.background)


async def answered_elsewhere(core: Core, message: Message) -> bool:
    """Whether a feature answers this inbound message itself (a consent keyword, a survey's
    score): neither a bot's to answer nor a reply that moves a ticket."""
    for feature in core.features:
        for answers in feature.answers:
            if await answers(core, message):
                return True
    return False


async def keyword_claim(core: Core, workspace_id: str, word: str) -> str | None:
    """Why a feature answers a message that is only `word` itself, or None if none does."""
    for feature in core.features:
        for claim in feature.keywords:
            why = await claim(core, workspace_id, word)
            if why is not None:
                return why
    return None


async def next_opening(core: Core, channel: Channel) -> datetime | None:
    """When the team behind `channel` is next in, or None while it is (or nobody knows)."""
    for feature in core.features:
        for opening in feature.opening:
            opens = await opening(core, channel)
            if opens is not None:
                return opens
    return None


def customer_data(core: Core) -> list[CustomerData]:
    return [data for feature in core.features for data in feature.customer_data]


def searchables(core: Core) -> list[Searchable]:
    return [s for feature in core.features for s in feature.searchable]


def sealed_collections(core: Core) -> list[str]:
    return [name for feature in core.features for name in feature.sealed]


def erasers(core: Core) -> list[Eraser]:
    return [eraser for feature in core.features for eraser in feature.erasers]


async def prepare(core: Core) -> None:
    """Run every feature's blocking set-up, each in a thread of its own."""
    await asyncio.gather(
        *(asyncio.to_thread(step) for feature in core.features for step in feature.prepare)
    )
