"""The application: the one place that puts Kith together.

Channel types and features are listed here, visibly; start-up and shutdown live in one
lifespan. `kith serve` and `kith demo` both run `create_app()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kith.bots.engine import BotEngine
from kith.bots.knowledge import KnowledgeBase
from kith.connectors import api as api_channel
from kith.connectors import email as email_channel
from kith.connectors import slack as slack_channel
from kith.connectors import telegram as telegram_channel
from kith.connectors import webchat as webchat_channel
from kith.connectors import wechat as wechat_channel
from kith.core.channels import ChannelRegistry, ChannelType
from kith.core.context import Core
from kith.core.outbox import OutboxWorker
from kith.core.pollers import PollerSupervisor
from kith.core.settings import Settings, get_settings
from kith.core.timers import TimerWorker
from kith.core.workspaces import ensure_default_workspace
from kith.nlp.feature import SentimentWorker, knowledge_embedder, load_analyzer
from kith.web.api import bots, channels, conversations, customers
from kith.web.errors import install_error_handlers
from kith.web.inbox import admin as inbox_admin
from kith.web.inbox import admin_channels as inbox_admin_channels
from kith.web.inbox import router as inbox_router
from kith.web.middleware import BodyLimit, Timing

log = logging.getLogger(__name__)

CHANNEL_TYPES: list[ChannelType] = [
    api_channel.channel_type,
    email_channel.channel_type,
    slack_channel.channel_type,
    telegram_channel.channel_type,
    wechat_channel.channel_type,
    webchat_channel.channel_type,
]


SHUTDOWN_GRACE_SECONDS = 5.0


def build_core(settings: Settings) -> Core:
    """A `Core` with every channel type and every feature's hooks installed."""
    core = Core.from_settings(settings, channels=ChannelRegistry(CHANNEL_TYPES))
    core.background.append(TimerWorker(core).run_forever)
    install_features(core)
    return core


def install_features(core: Core) -> None:
    """Features that react to messages and events, in the order they run."""
    analyzer = load_analyzer(core.settings)
    knowledge = KnowledgeBase(knowledge_embedder(analyzer) if analyzer else None)
    BotEngine(knowledge).install(core)
    if analyzer is not None:
        worker = SentimentWorker(core, analyzer)
        worker.install()
        core.background.append(worker.run_forever)


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
            tasks.append(asyncio.create_task(OutboxWorker(core).run_forever(stop)))
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
    )
    app.state.core = core
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Timing)
    for router in (channels.router, customers.router, conversations.router, bots.build_router()):
        app.include_router(router, prefix="/api/v1")
    app.include_router(inbox_router)
    app.include_router(inbox_admin.router)
    app.include_router(inbox_admin_channels.router)
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

    @app.get("/metrics", tags=["operations"])
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
