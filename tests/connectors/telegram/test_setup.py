"""Creating a Telegram channel: config validation and pointing the bot at Kith."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from kith.core.channel_records import get_channel
from kith.core.context import Core
from tests.connectors.telegram.conftest import (
    ALLOWED_FOR_COMMUNITIES,
    API_BASE,
    BOT_TOKEN,
    SECRET,
    make_bot_channel,
)
from tests.connectors.telegram.fake_bot_api import FakeBotApi


async def test_webhook_mode_registers_the_public_url_and_secret(
    core: Core, client: httpx.AsyncClient, workspace_id: str, bot_api: FakeBotApi
) -> None:
    core.settings.public_url = "https://kith.example.com/"
    telegram = await make_bot_channel(core, client, workspace_id)

    [registered] = bot_api.called("setWebhook")
    assert registered["url"] == f"https://kith.example.com/webhooks/telegram/{telegram.channel_id}"
    assert registered["secret_token"] == SECRET
    assert registered["allowed_updates"] == ALLOWED_FOR_COMMUNITIES


async def test_without_a_public_url_no_webhook_is_registered(
    core: Core,
    client: httpx.AsyncClient,
    workspace_id: str,
    bot_api: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="kith.connectors.telegram")
    await make_bot_channel(core, client, workspace_id)
    assert bot_api.calls == []
    assert "KITH_PUBLIC_URL is not set" in caplog.text
    assert BOT_TOKEN.partition(":")[2] not in caplog.text


async def test_polling_mode_removes_any_webhook(
    core: Core, client: httpx.AsyncClient, workspace_id: str, bot_api: FakeBotApi
) -> None:
    bot_api.webhook = {"url": "https://old.example.com/hook"}
    await make_bot_channel(core, client, workspace_id, mode="polling")
    assert [c.method for c in bot_api.calls] == ["deleteWebhook"]
    assert bot_api.webhook is None


async def test_a_token_telegram_rejects_is_reported_on_the_field(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    core.settings.public_url = "https://kith.example.com"
    token = (await make_bot_channel(core, client, workspace_id)).token
    answer = await client.post(
        "/api/v1/channels",
        json={
            "type": "telegram",
            "name": "Revoked bot",
            "config": {"bot_token": "7000000001:revoked", "api_base": API_BASE},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "config.bot_token"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"bot_token": "not a token"}, "config.bot_token"),
        ({"bot_token": BOT_TOKEN, "mode": "push"}, "config.mode"),
        ({"bot_token": BOT_TOKEN, "secret_token": "short"}, "config.secret_token"),
        ({"bot_token": BOT_TOKEN, "chat_id": 1}, "config.chat_id"),
        ({}, "config.bot_token"),
    ],
)
async def test_invalid_config_is_rejected_before_anything_is_called(
    core: Core,
    client: httpx.AsyncClient,
    workspace_id: str,
    bot_api: FakeBotApi,
    config: dict[str, Any],
    field: str,
) -> None:
    token = (await make_bot_channel(core, client, workspace_id)).token
    answer = await client.post(
        "/api/v1/channels",
        json={"type": "telegram", "name": "Bad", "config": config},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == field
    assert bot_api.calls == []


async def test_a_secret_token_is_generated_and_shown_once_when_omitted(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    token = (await make_bot_channel(core, client, workspace_id)).token
    answer = await client.post(
        "/api/v1/channels",
        json={"type": "telegram", "name": "Generated", "config": {"bot_token": BOT_TOKEN}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201
    assert set(answer.json()["secrets"]) == {"secret_token"}
    assert len(answer.json()["secrets"]["secret_token"]) >= 32


async def test_changing_the_mode_or_secret_tells_telegram_again(
    core: Core, client: httpx.AsyncClient, workspace_id: str, bot_api: FakeBotApi
) -> None:
    core.settings.public_url = "https://kith.example.com"
    telegram = await make_bot_channel(core, client, workspace_id)
    path = f"/api/v1/channels/{telegram.channel_id}"
    auth = {"Authorization": f"Bearer {telegram.token}"}

    renamed = await client.patch(path, json={"name": "Shop bot"}, headers=auth)
    assert renamed.status_code == 200 and len(bot_api.calls) == 1  # a name is Kith's alone

    polling = await client.patch(path, json={"config": {"mode": "polling"}}, headers=auth)
    assert polling.status_code == 200 and bot_api.webhook is None

    new_secret = "another-secret-0123456789abcdef"
    back = {"mode": "webhook", "secret_token": new_secret}
    assert (await client.patch(path, json={"config": back}, headers=auth)).status_code == 200
    assert bot_api.webhook is not None and bot_api.webhook["secret_token"] == new_secret
    assert [c.method for c in bot_api.calls] == ["setWebhook", "deleteWebhook", "setWebhook"]


async def test_a_token_telegram_rejects_on_update_leaves_the_channel_as_it_was(
    core: Core, client: httpx.AsyncClient, workspace_id: str, bot_api: FakeBotApi
) -> None:
    core.settings.public_url = "https://kith.example.com"
    telegram = await make_bot_channel(core, client, workspace_id)

    answer = await client.patch(
        f"/api/v1/channels/{telegram.channel_id}",
        json={"name": "Revoked", "config": {"bot_token": "7000000001:revoked"}},
        headers={"Authorization": f"Bearer {telegram.token}"},
    )

    assert answer.status_code == 422 and answer.json()["error"]["field"] == "config.bot_token"
    kept = await get_channel(core, workspace_id, telegram.channel_id)
    assert kept.name == "Kith Shop bot" and kept.config["bot_token"] == BOT_TOKEN
