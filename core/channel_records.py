"""Channel records: create, read, update and disable connected accounts.

A record never calls its platform when saved; the type's `on_created` hook does that
(e.g. Telegram's setWebhook) after the record exists.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kith.core.channels import ChannelType
from kith.core.context import Core
from kith.core.errors import InvalidInput, KithError, NotFound, all_refused, validation_details
from kith.core.ids import hash_secret, new_id, new_secret
from kith.core.models import Channel
from kith.core.sealing import sealer_for

log = logging.getLogger(__name__)

# Where a channel connects to. Pointing one elsewhere would hand its stored secrets to the
# new host (a token in a Bot API path, a password to an IMAP server), so it takes them again.
ENDPOINT_FIELD = re.compile(r"^(api_base|.+_(host|port|security|url))$")


class SecretsRequired(InvalidInput):
    """An endpoint field changed without the channel's secrets in the same request."""

    code = "secrets_required"


class ChannelConfigInvalid(KithError):
    """A stored config that no longer validates against its type's model (a field became
    stricter, or the document was edited by hand): saving the channel with a valid value
    fixes it."""

    code = "channel_config_invalid"
    status = 500


def _validate_config(channel_type: ChannelType, config: dict[str, Any]) -> dict[str, Any]:
    try:
        model = channel_type.config_model.model_validate(config)
    except ValidationError as exc:
        raise all_refused(exc.errors(), config, "config") from None  # every bad field at once
    return model.model_dump(mode="json", exclude_none=True)


def _split(
    channel_type: ChannelType, config: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    public = {k: v for k, v in config.items() if k not in channel_type.secret_fields}
    secrets = {k: v for k, v in config.items() if k in channel_type.secret_fields}
    return public, secrets


async def create_channel(
    core: Core, workspace_id: str, type_name: str, name: str, config: dict[str, Any]
) -> tuple[Channel, str]:
    """Create a channel; returns it with its inbound token (shown once)."""
    channel_type = core.channels.get(type_name)
    if channel_type is None:
        raise InvalidInput(
            f"unknown channel type; one of: {', '.join(core.channels.names())}",
            field="type",
            reason="unknown_channel_type",
            limits={"channel_type": type_name},
        )
    public, secrets = _split(channel_type, _validate_config(channel_type, config))
    token = new_secret("kch")
    doc = Channel(
        id=new_id(),
        workspace_id=workspace_id,
        type=type_name,
        name=name,
        config=public,
        created_at=core.clock.now(),
    ).to_doc()
    doc.update(sealer_for(core).seal(secrets))
    doc["token_hash"] = hash_secret(token)
    await core.store.channels.insert_one(doc)
    channel = load(core, doc)
    if channel_type.on_created is not None:
        try:
            await channel_type.on_created(core, channel)
        except BaseException:
            # The platform refused (e.g. a bad token): no half-made channel stays behind.
            await core.store.channels.delete_one({"_id": channel.id})
            raise
    return channel, token


def _invalid(
    channel: Channel, field: str, problem: str, err: ErrorDetails | None = None
) -> ChannelConfigInvalid:
    reason, limits = validation_details(err) if err is not None else ("missing", {})
    return ChannelConfigInvalid(
        f"channel {channel.id} ({channel.type}, {channel.name!r}): the stored config.{field} "
        f"{problem}; save the channel with a valid value",
        field=f"config.{field}",
        reason=reason,
        limits=limits,
    )


def _settings(channel_type: ChannelType, channel: Channel) -> BaseModel:
    """The stored config parsed into its type's model. A generated secret missing from it is
    an error too: the model would invent a new one at every load."""
    model = channel_type.config_model
    try:
        settings = model.model_validate(channel.config)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise _invalid(channel, field, f"no longer validates ({err['msg']})", err) from None
    for name, info in model.model_fields.items():
        generated = info.default_factory is not None and name in channel_type.secret_fields
        if generated and name not in settings.model_fields_set:
            raise _invalid(channel, name, "is missing")
    return settings


def load(core: Core, doc: dict[str, Any], *, strict: bool = True) -> Channel:
    """A channel with its secrets opened (`kith.core.sealing` keeps them encrypted in the
    database) and its config parsed, once, into its type's model for `Channel.settings_as`.

    A stored config that no longer validates raises `ChannelConfigInvalid`, naming the channel
    and the field; with `strict=False` (listing and editing, so that an admin can see and fix
    the channel) the error is kept and raised by `settings_as` instead."""
    channel = Channel.from_doc(doc)
    channel.config = {**channel.config, **sealer_for(core).open(doc)}
    channel_type = core.channels.get(channel.type)
    if channel_type is None:
        return channel
    try:
        channel.attach_settings(_settings(channel_type, channel))
    except ChannelConfigInvalid as exc:
        if strict:
            raise
        channel.attach_settings(exc)
    return channel


async def _channel_doc(core: Core, workspace_id: str | None, channel_id: str) -> dict[str, Any]:
    query: dict[str, Any] = {"_id": channel_id}
    if workspace_id is not None:
        query["workspace_id"] = workspace_id
    doc: dict[str, Any] | None = await core.store.channels.find_one(query)
    if doc is None:
        raise NotFound("no such channel", field="channel_id")
    return doc


async def get_channel(
    core: Core, workspace_id: str | None, channel_id: str, *, strict: bool = True
) -> Channel:
    return load(core, await _channel_doc(core, workspace_id, channel_id), strict=strict)


async def active_channel(
    core: Core, channel_id: str, type_name: str, workspace_id: str | None = None
) -> Channel:
    """The channel a webhook names, if it is of `type_name` and enabled (404 otherwise)."""
    channel = await get_channel(core, workspace_id, channel_id)
    if channel.type != type_name:
        raise NotFound(f"no such {type_name} channel", field="channel_id")
    if not channel.enabled:
        raise NotFound("channel is disabled", field="channel_id", code="channel_disabled")
    return channel


async def channel_token_hash(core: Core, channel_id: str) -> str | None:
    doc = await core.store.channels.find_one({"_id": channel_id}, {"token_hash": 1})
    token_hash = doc.get("token_hash") if doc else None
    return str(token_hash) if token_hash else None


async def rotate_channel_token(core: Core, workspace_id: str, channel_id: str) -> str:
    """A new inbound token for the channel (shown once); the old one stops working at once,
    since every webhook reads the stored hash."""
    await _channel_doc(core, workspace_id, channel_id)
    token = new_secret("kch")
    await core.store.channels.update_one(
        {"_id": channel_id, "workspace_id": workspace_id},
        {"$set": {"token_hash": hash_secret(token)}},
    )
    return token


async def list_channels(core: Core, workspace_id: str, *, strict: bool = True) -> list[Channel]:
    cursor = core.store.channels.find({"workspace_id": workspace_id}).sort("created_at", 1)
    return [load(core, doc, strict=strict) for doc in await cursor.to_list(None)]


def _require_secrets(
    channel_type: ChannelType, channel: Channel, patch: dict[str, Any], merged: dict[str, Any]
) -> None:
    """Secrets stay write-only: a patch that moves the channel to another endpoint must carry
    every secret the channel holds, or none of them would reach the new host unasked."""
    try:
        before = _validate_config(channel_type, channel.config)
    except InvalidInput:  # a stored config that no longer validates: compare as stored
        before = channel.config
    moved = sorted(
        k for k in {*before, *merged} if ENDPOINT_FIELD.match(k) and before.get(k) != merged.get(k)
    )
    missing = [
        f"config.{k}"
        for k in sorted(channel_type.secret_fields)
        if channel.config.get(k) is not None and not patch.get(k)
    ]
    if moved and missing:
        raise SecretsRequired(
            f"changing {', '.join(f'config.{k}' for k in moved)} needs the channel's secrets "
            f"again in the same request: {', '.join(missing)}",
            field=missing[0],
            reason="secrets_required",
            limits={"fields": ",".join(missing)},
        )


async def update_channel(
    core: Core,
    workspace_id: str,
    channel_id: str,
    *,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    enabled: bool | None = None,
) -> Channel:
    """Patch a channel. Config keys are merged; secrets left out keep their stored value.
    If the type's `on_updated` hook refuses the new config (the platform rejected a token),
    the channel is put back as it was. A stored config that no longer validates does not stop
    the patch: the patch is how an admin fixes it."""
    doc = await _channel_doc(core, workspace_id, channel_id)
    channel = load(core, doc, strict=False)
    channel_type = core.channels.get(channel.type)
    update: dict[str, Any] = {}
    if name is not None:
        update["name"] = name
    if enabled is not None:
        update["enabled"] = enabled
    if config is not None:
        if channel_type is None:
            raise InvalidInput("channel type is no longer available", field="type")
        merged = _validate_config(channel_type, {**channel.config, **config})
        _require_secrets(channel_type, channel, config, merged)
        update["config"], secrets = _split(channel_type, merged)
        update.update(sealer_for(core).seal(secrets))
    if update:
        await core.store.channels.update_one({"_id": channel_id}, {"$set": update})
    updated = await get_channel(core, workspace_id, channel_id, strict=False)
    if config is not None and channel_type is not None and channel_type.on_updated is not None:
        try:
            await channel_type.on_updated(core, channel, updated)
        except BaseException:
            await core.store.channels.replace_one({"_id": channel_id}, doc)
            raise
    return updated
