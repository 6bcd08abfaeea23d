"""Web chat fixtures: a channel made through the REST API and visitors as browsers act.

A `Visitor` is one browser: an httpx client with its own cookie jar, speaking to the real app
the way the widget's script does (session, then messages), from a page's `Origin`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from kith.core.auth import create_api_token
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.web.app import create_app
from tests.connectors.webchat.served import serve
from tests.support.browser import chromium

SHOP = "https://shop.example"
IDENTITY_SECRET = "shop-identity-secret-0123456789"
_ids = itertools.count(1)


def user_hash(user_id: str, secret: str = IDENTITY_SECRET) -> str:
    """What the business's server computes (written out here, not imported from Kith)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


@dataclass
class Visitor:
    """One browser on the shop's page."""

    http: httpx.AsyncClient
    channel_id: str
    origin: str = SHOP
    token: str | None = None
    use_header: bool = True

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Origin": self.origin}
        if self.token and self.use_header:
            headers["X-Kith-Visitor"] = self.token
        return headers

    def url(self, path: str) -> str:
        return f"/widget/{self.channel_id}{path}"

    async def start(self, **identity: str) -> httpx.Response:
        answer = await self.http.post(self.url("/session"), json=identity, headers=self.headers)
        if answer.status_code == 200:
            self.token = answer.json()["token"]
        return answer

    async def say(self, text: str, *, client_id: str | None = None, **extra: Any) -> httpx.Response:
        body = {"client_id": client_id or f"client-{next(_ids):06d}", "text": text, **extra}
        return await self.http.post(self.url("/messages"), json=body, headers=self.headers)

    async def thread(self) -> list[dict[str, Any]]:
        answer = await self.http.get(self.url("/messages"), headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    async def texts(self) -> list[str]:
        return [m["text"] for m in await self.thread()]


@dataclass
class Webchat:
    app: FastAPI
    core: Core
    admin: httpx.AsyncClient
    token: str
    channel_id: str
    clients: list[httpx.AsyncClient]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def visitor(self, origin: str = SHOP) -> Visitor:
        """A new browser: its own cookie jar."""
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="https://kith.test"
        )
        self.clients.append(http)
        return Visitor(http, self.channel_id, origin)

    async def conversation_of(self, posted: httpx.Response) -> dict[str, Any]:
        """The stored conversation a widget POST landed in."""
        message = await self.core.store.messages.find_one({"_id": posted.json()["message"]["id"]})
        assert message is not None
        conv = await self.core.store.conversations.find_one({"_id": message["conversation_id"]})
        assert conv is not None
        return conv

    async def reply(self, conversation_id: str, **content: Any) -> httpx.Response:
        """An agent answers through the REST API (stored in the outbox, not yet sent)."""
        return await self.admin.post(
            f"/api/v1/conversations/{conversation_id}/messages", json=content, headers=self.auth
        )


async def make_webchat(
    core: Core, app: FastAPI, admin: httpx.AsyncClient, **config: Any
) -> Webchat:
    workspace_token = await create_api_token(core, (await _workspace(core)), "tests")
    created = await admin.post(
        "/api/v1/channels",
        json={
            "type": "webchat",
            "name": "Northwind Tea",
            "config": {"allowed_origins": [SHOP], **config},
        },
        headers={"Authorization": f"Bearer {workspace_token}"},
    )
    assert created.status_code == 201, created.text
    return Webchat(app, core, admin, workspace_token, created.json()["id"], [])


async def _workspace(core: Core) -> str:
    doc = await core.store.workspaces.find_one({}, sort=[("created_at", 1)])
    assert doc is not None
    return str(doc["_id"])


@pytest.fixture(autouse=True)
def present_day(clock: ManualClock) -> None:
    """Move the manual clock to today: the embedded engine (mongomock) expires TTL-indexed
    documents by the wall clock, so rate-limit windows stamped in the clock's default past
    would vanish as they are written."""
    clock.advance(max(0.0, (datetime.now(UTC) - clock.now()).total_seconds()))


@pytest.fixture
async def kith_app(core: Core) -> AsyncIterator[FastAPI]:
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        yield manager.app  # type: ignore[misc]


@pytest.fixture
async def demo_page(core: Core, workspace_id: str) -> AsyncIterator[str]:
    """Kith on a loopback port with a web chat channel: its demo page's URL."""
    channel, _ = await create_channel(core, workspace_id, "webchat", "nw-web", {"title": "Tea"})
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager, serve(manager.app) as base:
        yield f"{base}/demo/widget/{channel.id}"


@pytest.fixture
async def chromium_browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def admin(kith_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=kith_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://kith.test") as http:
        yield http


async def _open(
    core: Core, kith_app: FastAPI, admin: httpx.AsyncClient, **config: Any
) -> AsyncIterator[Webchat]:
    chat = await make_webchat(core, kith_app, admin, **config)
    try:
        yield chat
    finally:
        for http in chat.clients:
            await http.aclose()


@pytest.fixture
async def webchat(
    core: Core, kith_app: FastAPI, admin: httpx.AsyncClient
) -> AsyncIterator[Webchat]:
    """A web chat for https://shop.example without identity verification."""
    async for chat in _open(core, kith_app, admin):
        yield chat


@pytest.fixture
async def verified_chat(
    core: Core, kith_app: FastAPI, admin: httpx.AsyncClient
) -> AsyncIterator[Webchat]:
    """A web chat whose business verifies its users with an identity secret."""
    async for chat in _open(core, kith_app, admin, identity_secret=IDENTITY_SECRET):
        yield chat
