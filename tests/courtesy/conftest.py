"""Channels of every type and customers made by ingest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from kith.core.auth import create_api_token
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.customers import do_merge_customers, get_customer
from kith.core.models import Channel, Customer, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.web.app import create_app

CONFIGS: dict[str, dict[str, Any]] = {
    "email": {
        "address": "shop@example.com",
        "imap_host": "imap.example.com",
        "smtp_host": "smtp.example.com",
        "username": "shop@example.com",
        "password": "app-password",
    },
    "telegram": {"bot_token": "123456:ABCdef"},
    "wechat": {"app_id": "wx0123456789abcdef", "app_secret": "s" * 16, "token": "tok123"},
    "slack": {"bot_token": "xoxb-1234567890", "signing_secret": "signing-secret"},
    "webchat": {},
}


class Shop:
    """One channel of every type, and customers who write on them."""

    def __init__(self, core: Core, workspace_id: str) -> None:
        self.core = core
        self.workspace_id = workspace_id
        self.channels: dict[str, Channel] = {}
        self._n = 0

    async def open(self) -> Shop:
        for type_name, config in CONFIGS.items():
            channel, _ = await create_channel(
                self.core, self.workspace_id, type_name, type_name, config
            )
            self.channels[type_name] = channel
        return self

    async def writes(
        self, channel_type: str, user_id: str, *, thread: str | None = None, text: str = "hi"
    ) -> Customer:
        """`user_id` writes on that channel (in `thread`, else their own); their customer."""
        self._n += 1
        received = await ingest(
            self.core,
            self.channels[channel_type],
            InboundMessage.on(
                self.channels[channel_type],
                channel_message_id=f"m-{self._n}",
                user=InboundUser(id=user_id, name=user_id),
                thread_key=thread,
                text=text,
            ),
        )
        return await get_customer(self.core, self.workspace_id, received.message.customer_id)

    async def merged(self, *customers: Customer) -> Customer:
        survivor = customers[0]
        for other in customers[1:]:
            survivor = await do_merge_customers(self.core, self.workspace_id, survivor.id, other.id)
        return survivor


@pytest.fixture
async def shop(core: Core, workspace_id: str) -> Shop:
    return await Shop(core, workspace_id).open()


@pytest.fixture
async def api(
    core: Core, workspace_id: str
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The real app on the courtesy core, and a workspace API token's header."""
    token = await create_api_token(core, workspace_id, "tests")
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            yield http, {"Authorization": f"Bearer {token}"}
