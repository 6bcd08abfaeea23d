"""Channel secrets at rest: sealed with KITH_SECRET_KEY, opened only by the same key."""

from __future__ import annotations

import pytest

from kith.core.channel_records import create_channel, get_channel, update_channel
from kith.core.context import Core
from kith.core.sealing import SecretsUnreadable, reseal_channels
from kith.core.settings import Settings
from kith.core.storage import Store

SECRET = "callback-signing-secret-0123456789"


def same_database(core: Core, secret_key: str | None) -> Core:
    """Another process on the same database, configured with `secret_key`."""
    settings = Settings(
        mongo_uri=core.settings.mongo_uri,
        db_name=core.settings.db_name,
        secret_key=secret_key,
        _env_file=None,  # type: ignore[call-arg]
    )
    store = Store(client=core.store.client, db=core.store.db, embedded=core.store.embedded)
    return Core(store=store, settings=settings, channels=core.channels, clock=core.clock)


async def api_channel_with_secret(core: Core, workspace_id: str) -> str:
    config = {"callback_url": "http://integrator.test/kith", "callback_secret": SECRET}
    channel, _ = await create_channel(core, workspace_id, "api", "Signed", config)
    return channel.id


async def test_secrets_are_sealed_in_the_database(core: Core, workspace_id: str) -> None:
    channel_id = await api_channel_with_secret(core, workspace_id)
    raw = await core.store.channels.find_one({"_id": channel_id})
    assert SECRET not in repr(raw) and raw["secrets_sealed"]
    assert raw["config"] == {"callback_url": "http://integrator.test/kith"}
    assert (await get_channel(core, workspace_id, channel_id)).config["callback_secret"] == SECRET


async def test_an_update_reseals(core: Core, workspace_id: str) -> None:
    channel_id = await api_channel_with_secret(core, workspace_id)
    before = (await core.store.channels.find_one({"_id": channel_id}))["secrets_sealed"]
    await update_channel(core, workspace_id, channel_id, config={"callback_secret": "x" * 40})
    raw = await core.store.channels.find_one({"_id": channel_id})
    assert raw["secrets_sealed"] != before and "x" * 40 not in repr(raw)
    assert (await get_channel(core, workspace_id, channel_id)).config["callback_secret"] == "x" * 40
    await update_channel(core, workspace_id, channel_id, name="Renamed")  # secrets untouched
    assert (await get_channel(core, workspace_id, channel_id)).config["callback_secret"] == "x" * 40


@pytest.mark.parametrize("other_key", [None, "a-different-install-secret"])
async def test_another_key_cannot_open_them(core: Core, workspace_id: str, other_key) -> None:
    channel_id = await api_channel_with_secret(core, workspace_id)
    other = same_database(core, other_key)
    with pytest.raises(SecretsUnreadable, match="KITH_SECRET_KEY"):
        await get_channel(other, workspace_id, channel_id)
    await other.http.aclose()


async def test_without_a_key_secrets_stay_clear_and_stay_readable_later(
    core: Core, workspace_id: str
) -> None:
    unkeyed = same_database(core, None)
    channel_id = await api_channel_with_secret(unkeyed, workspace_id)
    raw = await core.store.channels.find_one({"_id": channel_id})
    assert raw["secrets"] == {"callback_secret": SECRET} and not raw.get("secrets_sealed")
    assert (await get_channel(core, workspace_id, channel_id)).config["callback_secret"] == SECRET
    moved = {"callback_url": "http://b.test/", "callback_secret": SECRET}  # a move needs it
    await update_channel(core, workspace_id, channel_id, config=moved)
    raw = await core.store.channels.find_one({"_id": channel_id})
    assert SECRET not in repr(raw)  # sealed once a keyed process wrote it
    await unkeyed.http.aclose()


def with_keys(core: Core, secret_key: str | None, old: str | None = None) -> Core:
    rotated = same_database(core, secret_key)
    rotated.settings.old_secret_keys = old
    return rotated


async def test_a_rotated_key_opens_old_seals_and_reseal_moves_them_to_the_new_key(
    core: Core, workspace_id: str
) -> None:
    sealed_old = await api_channel_with_secret(core, workspace_id)
    rotating = with_keys(core, "the-new-key-0123456789abcdef", old=core.settings.secret_key)
    assert (await get_channel(rotating, workspace_id, sealed_old)).config["callback_secret"] == (
        SECRET
    )

    assert await reseal_channels(rotating) == 1

    rotated = with_keys(core, "the-new-key-0123456789abcdef")  # old key dropped
    assert (await get_channel(rotated, workspace_id, sealed_old)).config["callback_secret"] == (
        SECRET
    )
    with pytest.raises(SecretsUnreadable):
        await get_channel(core, workspace_id, sealed_old)  # the old key alone no longer opens it


async def test_reseal_seals_channels_written_in_clear_and_needs_a_key(
    core: Core, workspace_id: str
) -> None:
    clear = same_database(core, None)
    channel_id = await api_channel_with_secret(clear, workspace_id)
    assert SECRET in repr(await core.store.channels.find_one({"_id": channel_id}))
    with pytest.raises(SecretsUnreadable):
        await reseal_channels(clear)

    assert await reseal_channels(core) == 1

    raw = await core.store.channels.find_one({"_id": channel_id})
    assert SECRET not in repr(raw) and raw["secrets_sealed"]
    assert (await get_channel(core, workspace_id, channel_id)).config["callback_secret"] == SECRET
