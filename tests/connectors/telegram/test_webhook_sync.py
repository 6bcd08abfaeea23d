"""Webhooks set by an older Kith are set again at start with the update types this one needs
(a community's `chat_member` and `chat_join_request` updates); up-to-date ones are left
alone, and of two starting processes one does it."""

from __future__ import annotations

import asyncio

import httpx

from kith.connectors.telegram.webhook_sync import sync_webhooks
from kith.core.context import Core
from tests.connectors.telegram.conftest import ALLOWED_FOR_COMMUNITIES, make_bot_channel
from tests.connectors.telegram.fake_bot_api import FakeBotApi

PUBLIC = "https://kith.example.com"


async def test_a_webhook_set_without_community_updates_is_set_again(
    core: Core, client: httpx.AsyncClient, workspace_id: str, bot_api: FakeBotApi
) -> None:
    core.settings.public_url = PUBLIC
    telegram = await make_bot_channel(core, client, workspace_id)
    url = f"{PUBLIC}/webhooks/telegram/{telegram.channel_id}"
    assert bot_api.webhook is not None
    bot_api.webhook = {**bot_api.webhook, "allowed_updates": ["message", "callback_query"]}
    bot_api.calls.clear()

    await sync_webhooks(core, asyncio.Event())

    assert [c.method for c in bot_api.calls] == ["getWebhookInfo", "setWebhook"]
    [again] = bot_api.called("setWebhook")
    assert again["url"] == url
    assert again["allowed_updates"] == ALLOWED_FOR_COMMUNITIES


async def test_a_webhook_with_telegrams_default_updates_lacks_chat_member(
    core: Core, client: httpx.AsyncClient, workspace_id: str, bot_api: FakeBotApi
) -> None:
    core.settings.public_url = PUBLIC
    await make_bot_channel(core, client, workspace_id)
    assert bot_api.webhook is not None
    bot_api.webhook = {"url": bot_api.webhook["url"]}  # set with no allowed_updates at all
    bot_api.calls.clear()

    await sync_webhooks(core, asyncio.Event())
    assert bot_api.called("setWebhook")[0]["allowed_updates"] == ALLOWED_FOR_COMMUNITIES


async def test_an_up_to_date_webhook_is_only_read_and_one_process_of_two_reads_it(
    core: Core,
    second_process: Core,
    client: httpx.AsyncClient,
    workspace_id: str,
    bot_api: FakeBotApi,
) -> None:
    core.settings.public_url = second_process.settings.public_url = PUBLIC
    await make_bot_channel(core, client, workspace_id)
    bot_api.calls.clear()

    await sync_webhooks(core, asyncio.Event())
    await sync_webhooks(second_process, asyncio.Event())
    assert [c.method for c in bot_api.calls] == ["getWebhookInfo"]


async def test_polling_channels_are_left_alone_and_a_late_public_url_registers(
    core: Core, client: httpx.AsyncClient, workspace_id: str, bot_api: FakeBotApi
) -> None:
    """A webhook-mode channel made before `KITH_PUBLIC_URL` was set is registered by the
    first start that has one."""
    early = await make_bot_channel(core, client, workspace_id)
    await sync_webhooks(core, asyncio.Event())  # no public URL: nothing to point Telegram at
    assert bot_api.calls == []

    core.settings.public_url = PUBLIC
    await make_bot_channel(core, client, workspace_id, mode="polling")
    bot_api.calls.clear()
    await sync_webhooks(core, asyncio.Event())
    assert [c.method for c in bot_api.calls] == ["getWebhookInfo", "setWebhook"]
    assert bot_api.called("setWebhook")[0]["url"].endswith(early.channel_id)
