"""Consent fixtures: the app with a workspace token, an API channel, an email channel sending
through a real SMTP server on loopback (aiosmtpd, in this event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP
from asgi_lifespan import LifespanManager

from kith.consent.feature import feature as consent_feature
from kith.core.auth import create_api_token
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.features import install
from kith.core.models import Channel, Customer, Event, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.core.received import Received
from kith.web.app import create_app
from tests.connectors.email.conftest import Authenticator, SmtpRecorder
from tests.support.consumers import drain

SMTP_USER, SMTP_PASSWORD = "shop@shop.test", "app-password"


@pytest.fixture
def clock() -> ManualClock:
    """At the real time: the embedded engine expires rate-limit windows by the wall clock."""
    return ManualClock(start=utcnow())


@dataclass
class Smtp:
    port: int
    recorder: SmtpRecorder

    @property
    def mails(self) -> list[EmailMessage]:
        return [mail for _, mail in self.recorder.received]


@pytest.fixture
async def smtp() -> AsyncIterator[Smtp]:
    recorder = SmtpRecorder()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(
            recorder,
            hostname="mx.shop.test",
            authenticator=Authenticator(SMTP_USER, SMTP_PASSWORD),
            auth_require_tls=False,
        ),
        "127.0.0.1",
        0,
    )
    try:
        yield Smtp(server.sockets[0].getsockname()[1], recorder)
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class Shop:
    core: Core
    workspace_id: str
    http: httpx.AsyncClient
    token: str
    api: Channel
    n: int = 0

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def says(
        self, text: str, user: str = "u-ada", channel: Channel | None = None
    ) -> Received:
        """A customer writes, and the consumers (consent, bots …) run as the worker would."""
        channel = channel or self.api
        self.n += 1
        received = await ingest(
            self.core,
            channel,
            InboundMessage.on(
                channel,
                channel_message_id=f"m-{self.n}",
                user=InboundUser(id=user, name=user),
                text=text,
            ),
        )
        await drain(self.core)
        return received

    async def customer(self, customer_id: str) -> Customer:
        return await get_customer(self.core, self.workspace_id, customer_id)

    async def outbound(self, conversation_id: str) -> list[dict[str, Any]]:
        return (
            await self.core.store.messages.find(
                {"conversation_id": conversation_id, "direction": "out"}
            )
            .sort("created_at", 1)
            .to_list(None)
        )

    async def events(self, type_: str) -> list[Event]:
        docs = (
            await self.core.store.events.find({"type": type_}).sort("created_at", 1).to_list(None)
        )
        return [Event.from_doc(d) for d in docs]

    async def email_channel(self, smtp: Smtp) -> Channel:
        config = {
            "address": "support@shop.test",
            "imap_host": "127.0.0.1",
            "imap_security": "none",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "username": SMTP_USER,
            "password": SMTP_PASSWORD,
            "idle": False,
        }
        channel, _ = await create_channel(self.core, self.workspace_id, "email", "Shop", config)
        return channel


@pytest.fixture
async def shop(core: Core, workspace_id: str) -> AsyncIterator[Shop]:
    install(core, [consent_feature])
    token = await create_api_token(core, workspace_id, "tests")
    api, _ = await create_channel(core, workspace_id, "api", "App", {})
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            yield Shop(core, workspace_id, http, token, api)
