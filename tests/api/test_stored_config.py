"""A channel's config is parsed once when the channel is loaded: a stored config that no
longer validates is a clear error naming the channel and the field, and the write paths
still work on it so that an admin can fix it."""

from __future__ import annotations

import pytest

from kith.connectors.api.channel import ApiChannelConfig
from kith.connectors.telegram.config import TelegramConfig
from kith.core.channel_records import ChannelConfigInvalid, get_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.outbox import OutboxWorker
from tests.api.conftest import ApiSetup
from tests.support.callbacks import CallbackServer

SECRET = "a-callback-secret-0123"  # a patch that moves the callback takes the secret again


async def _break(core: Core, channel_id: str, update: dict[str, object]) -> None:
    """What a hand edit of the database, or a field made stricter in a release, leaves."""
    await core.store.channels.update_one({"_id": channel_id}, update)


async def test_settings_are_the_types_model_with_its_defaults(
    api: ApiSetup, core: Core, workspace_id: str
) -> None:
    channel = await get_channel(core, workspace_id, api.channel_id)
    settings = channel.settings_as(ApiChannelConfig)
    assert str(settings.callback_url) == "http://cb.test/x"
    assert settings.callback_secret == channel.config["callback_secret"]
    with pytest.raises(TypeError, match="has no TelegramConfig settings"):
        channel.settings_as(TelegramConfig)  # another connector's model


async def test_invalid_stored_config_names_the_channel_and_the_field(
    api: ApiSetup, core: Core, workspace_id: str
) -> None:
    await _break(core, api.channel_id, {"$set": {"config.callback_url": "not a url"}})

    with pytest.raises(ChannelConfigInvalid) as raised:
        await get_channel(core, workspace_id, api.channel_id)
    assert raised.value.field == "config.callback_url"
    assert api.channel_id in raised.value.message and "'Website'" in raised.value.message

    webhook = await api.say("u-1", "hello?")
    assert webhook.status_code == 500
    assert webhook.json()["error"]["code"] == "channel_config_invalid"
    assert webhook.json()["error"]["field"] == "config.callback_url"


async def test_a_missing_generated_secret_is_an_error_not_a_new_secret(
    api: ApiSetup, core: Core, workspace_id: str
) -> None:
    await _break(core, api.channel_id, {"$set": {"secrets": {}, "secrets_sealed": None}})

    with pytest.raises(ChannelConfigInvalid, match=r"config\.callback_secret is missing"):
        await get_channel(core, workspace_id, api.channel_id)


async def test_admin_lists_and_patches_a_broken_channel_back_to_health(
    api: ApiSetup, core: Core, workspace_id: str
) -> None:
    await _break(core, api.channel_id, {"$set": {"config.callback_url": "not a url"}})

    listed = await api.http.get("/api/v1/channels", headers=api.auth)
    assert listed.status_code == 200
    assert [c["config"]["callback_url"] for c in listed.json()["items"]] == ["not a url"]
    shown = await api.http.get(f"/api/v1/channels/{api.channel_id}", headers=api.auth)
    assert shown.status_code == 200
    renamed = await api.http.patch(
        f"/api/v1/channels/{api.channel_id}", json={"name": "Renamed"}, headers=api.auth
    )
    assert renamed.status_code == 200, renamed.text
    fixed = await api.http.patch(
        f"/api/v1/channels/{api.channel_id}",
        json={"config": {"callback_url": "http://cb.test/fixed", "callback_secret": SECRET}},
        headers=api.auth,
    )
    assert fixed.status_code == 200, fixed.text

    channel = await get_channel(core, workspace_id, api.channel_id)
    assert str(channel.settings_as(ApiChannelConfig).callback_url) == "http://cb.test/fixed"
    assert (await api.say("u-1", "hello again")).status_code == 200


async def test_replies_wait_for_a_broken_channel_to_be_fixed(
    api: ApiSetup, core: Core, clock: ManualClock, callbacks: CallbackServer
) -> None:
    received = (await api.say("u-1", "hi")).json()
    await _break(core, api.channel_id, {"$set": {"config.callback_url": "not a url"}})
    reply = await api.http.post(
        f"/api/v1/conversations/{received['conversation_id']}/messages",
        json={"text": "Hello!"},
        headers=api.auth,
    )
    message_id = reply.json()["id"]

    assert await OutboxWorker(core).run_once() == 1
    delivery = (await core.store.messages.find_one({"_id": message_id}))["delivery"]
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert "config.callback_url" in delivery["error"]

    await api.http.patch(
        f"/api/v1/channels/{api.channel_id}",
        json={"config": {"callback_url": "http://cb.test/x", "callback_secret": SECRET}},
        headers=api.auth,
    )
    clock.advance(3600)
    assert await OutboxWorker(core).run_once() == 1
    assert [r.json()["message"]["text"] for r in callbacks.requests] == ["Hello!"]
