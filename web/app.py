"""The application: the one place that puts Kith together.

Every feature (each connector, the inbox, bots, sentiment, and every one to come) is listed
here, visibly, in `features()`; start-up and shutdown live in one lifespan. `kith serve` and
`kith demo` both run `create_app()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kith.bots.engine import BotEngine
from kith.bots.flows import StepType, StepTypes
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
from kith.contacts import api as contacts_api
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
from kith.web.api import (
    bots,
    channels,
    consumers,
    conversations,
    customers,
    dead_letters,
    jobs,
    merges,
    search,
    tokens,
)
from kith.web.api.known_query import refuse_unknown_query
from kith.web.errors import install_error_handlers
from kith.web.inbox import feature as inbox_feature
from kith.web.middleware import BodyLimit, SecurityHeaders, Timing
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


def _metrics_token_matches(expected: str | None, request: Request) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def create_app(
    settings: Settings | None = None, core: Core | None = None, *, run_workers: bool = True
) -> FastAPI:
    """Build the FastAPI app. Tests pass their own `core` and drive workers themselves."""
    settings = settings or (core.settings if core else get_settings())
    owns_core = core is None
    core = core or build_core(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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

    app = FastAPI(
        title="Kith",
        version="0.1.0",
        description="Social CRM: every channel in one inbox, bots, sentiment and sequences.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query)],
    )
    app.state.core = core
    app.state.bot_steps = StepTypes(bot_step_types(core.features))  # the admin editor's
    install_error_handlers(app)
    uploads = {
        "/api/v1/customers/import": (
            settings.import_max_bytes,
            too_large(settings.import_max_bytes),
        )
    }
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, larger=uploads)
    app.add_middleware(Timing)
    app.add_middleware(SecurityHeaders)
    api_routers = (
        channels.router,
        merges.router,  # before customers': its fixed paths would read as customer ids
        contacts_api.router,  # before customers': `/customers/export.csv` is not an id
        customers.router,
        jobs.router,
        conversations.router,
        consumers.router,
        tokens.router,
        dead_letters.router,
        search.router,
    )
    for router in (*api_routers, bots.build_router(bot_step_types(core.features))):
        app.include_router(router, prefix="/api/v1")
    for feature in core.features:
        for router in feature.routers:
            app.include_router(router)
    for channel_type in core.channels:
        if channel_type.router is not None:
            app.include_router(channel_type.router)

    @app.get("/healthz", tags=["operations"])
    async def healthz(response: Response) -> dict[str, object]:
        ok = await core.store.ping()
        response.status_code = 200 if ok else 503
        return {
            "status": "ok" if ok else "degraded",
            "database": {"ok": ok, "embedded": core.store.embedded},
        }

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus figures, for the scraper holding `KITH_METRICS_TOKEN` only (route
        names, queue sizes and error rates tell an attacker too much); unset: no endpoint."""
        if not _metrics_token_matches(core.settings.metrics_token, request):
            return Response(status_code=404 if not core.settings.metrics_token else 401)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
