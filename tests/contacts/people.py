"""Customers for the merge tests: the same people reaching us on two channels."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.models import Channel, InboundUser
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound


@dataclass
class Shop:
    """A workspace with two channels (web and app) and an API client with a full token."""

    core: Core
    http: httpx.AsyncClient
    workspace_id: str
    web: Channel
    app: Channel
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def customer(
        self, channel: Channel, user_id: str, name: str, email: str | None = None, **more: str
    ) -> str:
        """A customer first seen on `channel`; returns their id."""
        user = InboundUser(id=user_id, name=name, email=email, **more)
        received = await ingest(self.core, channel, inbound(channel, user=user, text="hello"))
        return received.message.customer_id

    async def get(self, path: str, **params: object) -> httpx.Response:
        return await self.http.get(f"/api/v1/customers{path}", params=params, headers=self.auth)

    async def post(self, path: str, body: object = None) -> httpx.Response:
        return await self.http.post(f"/api/v1/customers{path}", json=body, headers=self.auth)


async def open_shop(core: Core, http: httpx.AsyncClient, workspace_id: str) -> Shop:
    web, _ = await api_channel(core, workspace_id, "Web")
    app, _ = await api_channel(core, workspace_id, "App")
    token = await create_api_token(core, workspace_id, "merges")
    return Shop(core, http, workspace_id, web, app, token)
