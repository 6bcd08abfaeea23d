"""WeChat fixtures: a fake WeChat API behind Core's HTTP client, channels made via the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from tests.connectors.wechat.fake_wechat import FakeWeChatApi, WeChatPusher

FIXTURES = Path(__file__).parents[3] / "connectors" / "wechat" / "fixtures"
APP_ID = "wxb11529c136998cb6"  # the AppID, Token and key of Tencent's published sample
TOKEN = "pamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_SECRET = "0123456789abcdef0123456789abcdef"
OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"


def fixture(name: str) -> str:
    """A push exactly as the WeChat docs show it."""
    return (FIXTURES / f"{name}.xml").read_text(encoding="utf-8")


def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "official_vectors.json").read_text())
    return data


@pytest.fixture
def clock() -> ManualClock:
    """Starts at the wall clock: the embedded engine (mongomock) expires TTL-indexed
    documents, such as rate-limit windows, against real time, not against Kith's clock."""
    return ManualClock(start=utcnow())


@pytest.fixture
def callbacks(clock: ManualClock) -> FakeWeChatApi:
    """Core's HTTP client reaches this app for every host: here, WeChat's API."""
    return FakeWeChatApi(app_id=APP_ID, app_secret=APP_SECRET, clock=clock)


@pytest.fixture
def wechat_api(callbacks: FakeWeChatApi) -> FakeWeChatApi:
    return callbacks


@dataclass
class WeChatSetup:
    http: httpx.AsyncClient
    core: Core
    token: str
    channel_id: str
    pusher: WeChatPusher

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def conversation(self) -> dict[str, Any]:
        listed = await self.http.get("/api/v1/conversations", headers=self.auth)
        [conversation] = listed.json()["items"]
        return dict(conversation)

    async def reply(self, conversation_id: str, **content: Any) -> dict[str, Any]:
        answer = await self.http.post(
            f"/api/v1/conversations/{conversation_id}/messages", json=content, headers=self.auth
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        answer = await self.http.get(
            f"/api/v1/conversations/{conversation_id}/messages", headers=self.auth
        )
        return list(answer.json()["items"])


async def make_setup(
    core: Core, http: httpx.AsyncClient, workspace_id: str, **config: str
) -> WeChatSetup:
    """Create a channel through the REST API, as an admin pasting the developer settings."""
    api_token = await create_api_token(core, workspace_id, "tests")
    config = {"app_id": APP_ID, "app_secret": APP_SECRET, "token": TOKEN, **config}
    created = await http.post(
        "/api/v1/channels",
        json={"type": "wechat", "name": "Kith 公众号", "config": config},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert created.status_code == 201, created.text
    channel_id = created.json()["id"]
    pusher = WeChatPusher(
        http,
        channel_id,
        app_id=config["app_id"],
        token=config["token"],
        encoding_aes_key=config.get("encoding_aes_key"),
        clock=core.clock,
    )
    return WeChatSetup(http, core, api_token, channel_id, pusher)


@pytest.fixture
async def wechat(core: Core, client: httpx.AsyncClient, workspace_id: str) -> WeChatSetup:
    """A channel configured for every mode (the AES key lets compatible and safe in)."""
    return await make_setup(core, client, workspace_id, encoding_aes_key=AES_KEY)


@pytest.fixture
async def plain_only(core: Core, client: httpx.AsyncClient, workspace_id: str) -> WeChatSetup:
    """A channel without an EncodingAESKey: plaintext mode only."""
    return await make_setup(core, client, workspace_id)
