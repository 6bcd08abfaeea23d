"""Slack fixtures: a Slack channel on the real app, requests signed as Slack signs them,
and a fake Web API on loopback that slack_sdk's client reaches through `api_base`."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from asgi_lifespan import LifespanManager

import kith.connectors.slack
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Channel
from kith.web.app import create_app
from tests.connectors.slack.fake_slack import FakeSlack

FIXTURES = Path(kith.connectors.slack.__file__).parent / "fixtures"
# The signing secret from Slack's "Verifying requests from Slack" walkthrough.
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"


def fixture(name: str) -> dict[str, Any]:
    """A payload from connectors/slack/fixtures, shaped as Slack's docs show it."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Slack's v0 scheme: hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackSetup:
    http: httpx.AsyncClient
    core: Core
    clock: ManualClock
    channel: Channel
    api: FakeSlack

    @property
    def path(self) -> str:
        return f"/webhooks/slack/{self.channel.id}"

    async def send_raw(
        self,
        body: bytes,
        *,
        content_type: str = "application/json",
        path: str = "",
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST exactly as Slack does: signed over the raw body with the request time."""
        ts = timestamp if timestamp is not None else int(self.clock.now().timestamp())
        signed = {
            "content-type": content_type,
            "x-slack-request-timestamp": str(ts),
            "x-slack-signature": sign(secret, ts, body),
            **(headers or {}),
        }
        return await self.http.post(self.path + path, content=body, headers=signed)

    async def event(self, payload: str | dict[str, Any], **kw: Any) -> httpx.Response:
        data = fixture(payload) if isinstance(payload, str) else payload
        return await self.send_raw(json.dumps(data).encode(), **kw)

    async def interaction(
        self, payload: dict[str, Any], path: str = "/interactive"
    ) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.send_raw(
            body, content_type="application/x-www-form-urlencoded", path=path
        )

    async def inbound(self) -> list[dict[str, Any]]:
        cursor = self.core.store.messages.find({"direction": "in"}).sort("created_at", 1)
        return list(await cursor.to_list(None))


@pytest.fixture
def clock() -> ManualClock:
    """Kith's clock, set far past the wall clock. The embedded engine (mongomock) purges TTL
    documents by the wall clock, so rate-limit windows stamped at the shared fixture's
    2026-01-01 would vanish as soon as they are written (reported to core)."""
    return ManualClock(start=datetime(2100, 1, 1, tzinfo=UTC))


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    api = FakeSlack()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
async def slack(
    core: Core, workspace_id: str, clock: ManualClock, slack_api: FakeSlack
) -> AsyncIterator[SlackSetup]:
    """The real app with one Slack channel. App errors come back as HTTP 500, as Slack
    would see them, instead of being raised into the test."""
    channel, _ = await create_channel(
        core,
        workspace_id,
        "slack",
        "Acme Slack",
        {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "api_base": slack_api.url},
    )
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            yield SlackSetup(http, core, clock, channel, slack_api)
