"""Telegram fixtures: a fake Bot API behind Core's HTTP client, a bot channel made via the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from tests.connectors.telegram.fake_bot_api import FakeBotApi

FIXTURES = Path(__file__).parents[3] / "connectors" / "telegram" / "fixtures"
BOT_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
SECRET = "webhook-secret-0123456789abcdef"
API_BASE = "http://telegram.test"
ALLOWED_FOR_COMMUNITIES = [  # what a community needs Telegram to send (platform-rules.md)
    "message",
    "edited_message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "channel_post",
    "chat_join_request",
]


def update(name: str, **changes: Any) -> dict[str, Any]:
    """A fixture update as Telegram sends it; top-level keys may be replaced."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    data.update(changes)
    return data


@pytest.fixture
def clock() -> ManualClock:
    """Ahead of the wall clock: the embedded engine applies TTL indexes (rate-limit windows
    expire at `expires_at`) against real time, so a clock in the past would see every
    window expired at once."""
    return ManualClock(utcnow().replace(microsecond=0) + timedelta(days=1))


@pytest.fixture
def callbacks() -> FakeBotApi:
    """Core's HTTP client reaches this app for every host: here, the Bot API."""
    return FakeBotApi(token=BOT_TOKEN)


@pytest.fixture
def bot_api(callbacks: FakeBotApi) -> FakeBotApi:
    return callbacks


@dataclass
class TelegramSetup:
    http: httpx.AsyncClient
    core: Core
    token: str
    channel_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def deliver(self, body: dict[str, Any] | bytes, secret: str = SECRET) -> httpx.Response:
        """POST an update exactly as Telegram does (JSON body, secret token header)."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post(
            f"/webhooks/telegram/{self.channel_id}",
            content=content,
            headers={
                "content-type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": secret,
            },
        )

    async def messages(self) -> list[dict[str, Any]]:
        cursor = self.core.store.messages.find({"channel_id": self.channel_id})
        return list(await cursor.sort([("created_at", 1), ("_id", 1)]).to_list(None))

    async def events(self, type_: str) -> list[dict[str, Any]]:
        return list(await self.core.store.events.find({"type": type_}).to_list(None))


async def make_bot_channel(
    core: Core, http: httpx.AsyncClient, workspace_id: str, **config: Any
) -> TelegramSetup:
    token = await create_api_token(core, workspace_id, "tests")
    response = await http.post(
        "/api/v1/channels",
        json={
            "type": "telegram",
            "name": "Kith Shop bot",
            "config": {
                "bot_token": BOT_TOKEN,
                "secret_token": SECRET,
                "api_base": API_BASE,
                **config,
            },
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return TelegramSetup(http, core, token, response.json()["id"])


@pytest.fixture
async def telegram(core: Core, client: httpx.AsyncClient, workspace_id: str) -> TelegramSetup:
    return await make_bot_channel(core, client, workspace_id)
