"""The application: the one place that puts Kith together.

Every feature (each connector, the inbox, bots, sentiment, and every one to come) is listed
here, visibly, in `features()`; start-up and shutdown live in one lifespan. `kith serve` and
`kith demo` both run `create_app()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import APIRouter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from kith.bots.engine import BotEngine
from kith.bots.flows import StepType
from kith.bots.knowledge import KnowledgeBase
from kith.bots.steps import STEP_TYPES
from kith.broadcasts.feature import feature as broadcasts_feature
from kith.communities.feature import feature as communities_feature
from kith.connectors import api as api_channel
from kith.connectors import email as email_channel
from kith.connectors import slack as slack_channel
from kith.connectors import telegram as telegram_channel
from kith.connectors import webchat as webchat_channel
from kith.connectors import wechat as wechat_channel
from kith.connectors.telegram.webhook_sync import feature as telegram_webhooks_feature
from kith.consent.feature import feature as consent_feature
from kith.contacts import captured as contact_capture
from kith.contacts import suggestions as merge_suggestions
from kith.contacts.csvfile import too_large
from kith.contacts.feature import feature as contacts_feature
from kith.contacts.feature import tag_folding
from kith.core import dead_letters as dead_letters_feature
from kith.core import jobs as jobs_feature
from kith.core import search as search_feature
from kith.core.clock import ScaledClock
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.features import Feature, install, prepare
from kith.core.outbox import OutboxWorker
from kith.core.pollers import PollerSupervisor
from kith.core.settings import Settings, get_settings
from kith.core.timers import TimerWorker
from kith.core.workspaces import ensure_default_workspace
from kith.courtesy.feature import feature as courtesy_feature
from kith.nlp.feature import SentimentWorker, knowledge_embedder, load_analyzer
from kith.orders.bot_step import feature as order_bot_steps
from kith.orders.feature import feature as orders_feature
from kith.segments.feature import feature as segments_feature
from kith.sequences.bot_step import feature as sequence_bot_steps
from kith.sequences.feature import feature as sequences_feature
from kith.tickets.bot_step import feature as ticket_bot_steps
from kith.tickets.csat_feature import feature as csat_feature
from kith.tickets.feature import feature as tickets_feature
from kith.web.inbox import feature as inbox_feature
from kith.web.middleware import BodyLimit, LoneSurrogates, SecurityHeaders, Timing
from kith.web.surface import WithCore, routes_app
from kith.webhooks.feature import feature as webhooks_feature

log = logging.getLogger(__name__)

# The channels and the inbox need nothing but a Core; tests install these on theirs.
BASE_FEATURES: list[Feature] = [
    api_channel.feature,
    email_channel.feature,
    slack_channel.feature,
    telegram_channel.feature,
    wechat_channel.feature,
    webchat_channel.feature,
    inbox_feature,
    dead_letters_feature.feature,
    search_feature.feature,
    courtesy_feature,
    merge_suggestions.feature,
    segments_feature,
    contacts_feature,
    contact_capture.feature,
    sequence_bot_steps,
    ticket_bot_steps,
    order_bot_steps,
]

CHANNEL_TYPES = [channel_type for f in BASE_FEATURES for channel_type in f.channel_types]

SHUTDOWN_GRACE_SECONDS = 5.0


def features(core: Core) -> list[Feature]:
    """Every feature of Kith, in the order its consumers are offered events."""
    analyzer = load_analyzer(core.settings)
    knowledge = KnowledgeBase(knowledge_embedder(analyzer) if analyzer else None)
    engine = BotEngine(knowledge, step_types=bot_step_types(BASE_FEATURES))
    listed = [
        *BASE_FEATURES,
        consent_feature,
        engine.feature(),
        jobs_feature.feature(core),
        tag_folding(core),
        broadcasts_feature(core),
        sequences_feature(core),
        tickets_feature(core),
        csat_feature(core),
        orders_feature(core),
        webhooks_feature(core),
        communities_feature(core),
        telegram_webhooks_feature(core),
    ]
    if analyzer is not None:
        listed.append(SentimentWorker(core, analyzer).feature())
    return listed


def bot_step_types(installed: list[Feature]) -> list[StepType[Any]]:
    """The step types bots may use: the built-in ones and those features declare."""
    return [*STEP_TYPES, *(step for feature in installed for step in feature.steps)]


def build_core(settings: Settings) -> Core:
    """A `Core` with every feature installed."""
    core = Core.from_settings(settings)
    if settings.demo_clock_speed:
        core.clock = ScaledClock(settings.demo_clock_speed)
    core.background.append(TimerWorker(core).run_forever)
    install(core, features(core))
    return core


async def _wind_down(tasks: list[asyncio.Task[None]]) -> None:
    """Let the workers finish what they hold for a moment, then cancel them: whatever they
    had claimed is under a lease, so another process (or the next start) takes it over."""
    if not tasks:
        return
    _, running = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
    for task in running:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def create_app(
    settings: Settings | None = None,
    core: Core | None = None,
    *,
    run_workers: bool = True,
    routers: Sequence[APIRouter] = (),
) -> Starlette:
    """The app for one `core`: its lifespan (start-up, workers, shutdown) and middleware
    around the process's shared routes (`kith.web.surface`), `routers` after Kith's (the
    demo's own). Tests pass their own `core` and drive workers themselves."""
    settings = settings or (core.settings if core else get_settings())
    owns_core = core is None
    core = core or build_core(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await core.start()
        if not core.store.embedded and not core.settings.secret_key:
            log.warning("KITH_SECRET_KEY is not set: channel secrets are stored unencrypted")
        app.state.workspace = await ensure_default_workspace(core)
        stop = asyncio.Event()
        tasks = []
        if run_workers:
            await prepare(core)
            tasks.append(asyncio.create_task(OutboxWorker(core).run_forever(stop)))
            tasks.append(asyncio.create_task(ConsumerWorker(core).run_forever(stop)))
            tasks.append(asyncio.create_task(PollerSupervisor(core).run_forever(stop)))
            tasks += [asyncio.create_task(loop(stop)) for loop in core.background]
        try:
            yield
        finally:
            stop.set()
            await _wind_down(tasks)
            if owns_core:
                await core.close()

    surface = routes_app(core, bot_step_types(core.features), routers)
    uploads = {
        "/api/v1/customers/import": (
            settings.import_max_bytes,
            too_large(settings.import_max_bytes),
        )
    }
    app = Starlette(
        routes=[Mount("", app=WithCore(surface, core))],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(Timing),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes, larger=uploads),
            Middleware(LoneSurrogates),
        ],
        lifespan=lifespan,
    )
    app.state.core = core
    return app
