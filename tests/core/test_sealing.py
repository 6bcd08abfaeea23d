"""Channel secrets at rest: sealed with KITH_SECRET_KEY, opened only by the same key."""

from __future__ import annotations

import pytest

from kith.bots import webhook_keys as bot_keys
from kith.core.channel_records import create_channel, get_channel, update_channel
from kith.core.context import Core
from kith.core.features import install
from kith.core.sealing import SecretsUnreadable, reseal, sealer_for
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.sequences import webhook_keys as sequence_keys
from kith.sequences.store import sequences
from kith.web.app import features
from kith.webhooks.actions import do_create_endpoint
from kith.webhooks.models import EndpointIn
from kith.webhooks.signing import current_secret
from kith.webhooks.store import endpoints

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

    assert (await reseal(rotating))["channels"] == 1

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
        await reseal(clear)

    assert (await reseal(core))["channels"] == 1

    raw = await core.store.channels.find_one({"_id": channel_id})
    assert SECRET not in repr(raw) and raw["secrets_sealed"]
    assert (await get_channel(core, workspace_id, channel_id)).config["callback_secret"] == SECRET


NEW_KEY = "the-new-key-0123456789abcdef"


def with_every_feature(core: Core, secret_key: str | None, old: str | None = None) -> Core:
    """Another process on the same database, with all of Kith's features installed."""
    changed = {"secret_key": secret_key, "old_secret_keys": old, "nlp_enabled": False}
    settings = core.settings.model_copy(update=changed)
    store = Store(client=core.store.client, db=core.store.db, embedded=core.store.embedded)
    other = Core(store=store, settings=settings, clock=core.clock)
    install(other, features(other))
    return other


async def test_reseal_moves_every_sealed_secret_to_the_new_key(
    core: Core, workspace_id: str
) -> None:
    """A channel's secrets, a bot's and a sequence's webhook key and a webhook endpoint's
    signing secret, sealed with the old key: after a reseal the new key alone opens every
    sealed document in the database, whichever collection keeps it (a feature that seals
    secrets in a collection it does not declare `sealed` fails this)."""
    before = with_every_feature(core, core.settings.secret_key)
    channel_id = await api_channel_with_secret(before, workspace_id)
    await before.store.collection("bots").insert_one({"_id": "bot-1", "workspace_id": workspace_id})
    await sequences(before).insert_one({"_id": "sequence-1", "workspace_id": workspace_id})
    bot_key = await bot_keys.new_webhook_secret(before, workspace_id, "bot-1")
    sequence_key = await sequence_keys.new_webhook_secret(before, workspace_id, "sequence-1")
    hook = EndpointIn(url="http://127.0.0.1:9/kith", events=["message.created"])
    made = await do_create_endpoint(before, workspace_id, hook)

    rotating = with_every_feature(core, NEW_KEY, old=core.settings.secret_key)
    counts = await reseal(rotating)
    assert counts == {"channels": 1, "bots": 1, "sequences": 1, "webhook_endpoints": 1}
    assert (await reseal(rotating))["bots"] == 1  # again: each is rewritten, none is lost

    after = with_every_feature(core, NEW_KEY)  # the old key dropped
    assert (await get_channel(after, workspace_id, channel_id)).config["callback_secret"] == SECRET
    assert await bot_keys.webhook_secret(after, "bot-1") == bot_key
    assert await sequence_keys.webhook_secret(after, "sequence-1") == sequence_key
    endpoint = await endpoints(after).find_one({"_id": made.endpoint.id})
    assert endpoint is not None and current_secret(sealer_for(after), endpoint) == made.secret
    sealer = sealer_for(after)
    for name in await core.store.db.list_collection_names():
        async for doc in core.store.db[name].find({"secrets_sealed": {"$nin": [None, ""]}}):
            sealer.open(doc)  # SecretsUnreadable if the old key sealed it
    for process in (before, rotating, after):
        await process.http.aclose()
