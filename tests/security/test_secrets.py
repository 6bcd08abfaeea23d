"""Secrets stay write-only: moving a channel to another endpoint takes its secrets again.

The regression: a PATCH of a Telegram channel's `api_base` to another host, without the
token, made Kith call `/bot<token>/deleteWebhook` on that host. Every endpoint field
(`api_base`, `*_host`, `*_port`, `*_security`, `callback_url`) now needs the channel's
stored secrets in the same request, else a 422 naming them; nothing is called meanwhile.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.channel_records import get_channel
from kith.core.context import Core
from tests.connectors.telegram.conftest import BOT_TOKEN, SECRET, make_bot_channel
from tests.connectors.telegram.fake_bot_api import FakeBotApi

EMAIL = {
    "address": "support@shop.test",
    "imap_host": "imap.shop.test",
    "smtp_host": "smtp.shop.test",
    "username": "support@shop.test",
    "password": "app-password-1",
}
SLACK = {"bot_token": "xoxb-1-2-abc", "signing_secret": "8f742231b10e8888abcd99yyyzzz85a5"}
WECHAT = {
    "app_id": "wxb11529c136998cb6",
    "app_secret": "0123456789abcdef0123456789abcdef",
    "token": "pamtest",
}
API = {"callback_url": "https://shop.example/kith", "callback_secret": "callback-secret-0123"}


class Move(NamedTuple):
    """A channel type, its config at creation, an endpoint change, the secrets it takes again."""

    type_: str
    config: dict[str, Any]
    change: dict[str, Any]
    secrets: list[str]

    def __str__(self) -> str:
        return f"{self.type_}-{next(iter(self.change))}"


MOVES = [
    Move("api", API, {"callback_url": "https://elsewhere.example/x"}, ["callback_secret"]),
    Move("email", EMAIL, {"imap_host": "imap.elsewhere.test"}, ["password"]),
    Move("email", EMAIL, {"smtp_host": "smtp.elsewhere.test"}, ["password"]),
    Move("email", EMAIL, {"imap_port": 143}, ["password"]),
    Move("email", EMAIL, {"smtp_port": 587}, ["password"]),
    Move("email", EMAIL, {"imap_security": "none"}, ["password"]),
    Move("email", EMAIL, {"smtp_security": "starttls"}, ["password"]),
    Move("slack", SLACK, {"api_base": "https://slack.elsewhere.test/api/"}, sorted(SLACK)),
    Move("wechat", WECHAT, {"api_base": "https://wx.elsewhere.test"}, ["app_secret", "token"]),
]


@pytest.fixture
def callbacks() -> FakeBotApi:
    """Core's HTTP client reaches this app for every host: a Bot API recording its calls."""
    return FakeBotApi(token=BOT_TOKEN)


async def _channel_path(client: httpx.AsyncClient, auth: dict[str, str], move: Move) -> str:
    """A new channel of the move's type and config; its API path."""
    created = await client.post(
        "/api/v1/channels",
        json={"type": move.type_, "name": move.type_, "config": move.config},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    return f"/api/v1/channels/{created.json()['id']}"


def _assert_secrets_required(answer: httpx.Response, secrets: list[str]) -> None:
    """A 422 naming the first secret as the field and every one of them in the message."""
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "secrets_required"
    assert error["field"] == f"config.{secrets[0]}"
    assert all(f"config.{s}" in error["message"] for s in secrets)


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 'tests')}"}


async def test_telegram_api_base_moved_without_the_token_calls_nothing(
    core: Core, client: httpx.AsyncClient, workspace_id: str, callbacks: FakeBotApi
) -> None:
    bot = await make_bot_channel(core, client, workspace_id)
    calls = len(callbacks.calls)
    moved = await client.patch(
        f"/api/v1/channels/{bot.channel_id}",
        json={"config": {"api_base": "http://collector.example"}},
        headers=bot.auth,
    )
    _assert_secrets_required(moved, ["bot_token", "secret_token"])
    assert len(callbacks.calls) == calls  # no deleteWebhook / setWebhook anywhere
    stored = await get_channel(core, workspace_id, bot.channel_id)
    assert stored.config["api_base"] == "http://telegram.test/"

    again = {"api_base": "http://telegram.test/v2", "bot_token": BOT_TOKEN, "secret_token": SECRET}
    moved = await client.patch(
        f"/api/v1/channels/{bot.channel_id}", json={"config": again}, headers=bot.auth
    )
    assert moved.status_code == 200, moved.text
    assert BOT_TOKEN not in moved.text


@pytest.mark.parametrize("move", MOVES, ids=str)
async def test_an_endpoint_change_takes_the_secrets_again(
    client: httpx.AsyncClient, auth: dict[str, str], move: Move
) -> None:
    config, change, secrets = move.config, move.change, move.secrets
    path = await _channel_path(client, auth, move)
    refused = await client.patch(path, json={"config": change}, headers=auth)
    _assert_secrets_required(refused, secrets)
    assert next(iter(change)) in refused.json()["error"]["message"]
    [(field, value)] = change.items()
    assert (await client.get(path, headers=auth)).json()["config"].get(field) != value

    some = {**change, **{s: config[s] for s in secrets[:-1]}}
    if len(secrets) > 1:  # every secret, not just one of them
        assert (await client.patch(path, json={"config": some}, headers=auth)).status_code == 422
    every = {**change, **{s: config[s] for s in secrets}}
    accepted = await client.patch(path, json={"config": every}, headers=auth)
    assert accepted.status_code == 200, accepted.text
    assert all(config[s] not in accepted.text for s in secrets)


@pytest.mark.parametrize("move", MOVES[:2], ids=str)
async def test_other_fields_and_unchanged_endpoints_need_no_secrets(
    client: httpx.AsyncClient, auth: dict[str, str], move: Move
) -> None:
    """The admin form sends every public field back: the same endpoint is no change."""
    path = await _channel_path(client, auth, move)
    shown = (await client.get(path, headers=auth)).json()["config"]
    same = await client.patch(path, json={"name": "renamed", "config": shown}, headers=auth)
    assert same.status_code == 200, same.text
    if move.type_ == "email":
        other = await client.patch(path, json={"config": {"poll_seconds": 30}}, headers=auth)
        assert other.status_code == 200, other.text
