"""The registry of channel types: how a connector plugs into Kith without touching the pipeline.

A connector package exposes one `ChannelType`; the application lists them in one place
(`kith.web.app.CHANNEL_TYPES`). The core uses the registry to validate channel configs,
keep secrets out of answers, and hand outbound messages to the right sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from kith.core.errors import InvalidInput, raise_all

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel, Conversation, Message


@dataclass(frozen=True)
class Capabilities:
    """What a channel can render; content it cannot render degrades to text."""

    buttons: bool = False
    images: bool = False
    threads: bool = False
    edits: bool = False


@dataclass(frozen=True)
class SendResult:
    channel_message_id: str | None = None


class Sender(Protocol):
    """Delivers one outbound message; raises `DeliveryError` (retryable or not) on failure."""

    async def send(
        self, core: Core, channel: Channel, conversation: Conversation, message: Message
    ) -> SendResult: ...


class ChannelHooks(Protocol):
    async def on_created(self, core: Core, channel: Channel) -> None: ...


@dataclass(frozen=True)
class ChannelType:
    """One kind of channel. `config_model` validates the whole config and is how its connector
    reads it (`Channel.settings_as(config_model)`, parsed once when the channel is loaded, so
    defaults live in the model only); `secret_fields` of it are stored apart and never
    returned; `router` (a FastAPI router) takes the platform's webhooks;
    `on_created(core, channel)` runs once after creation (e.g. registering a webhook) and
    `on_updated(core, before, after)` after each config change; either raising undoes the write;
    `poller` (a `kith.core.pollers.Poller`) fetches for channels that are polled;
    `replay` (a `kith.core.dead_letters.Replay`) parses and ingests a kept dead letter again;
    `group_admin` (a `kith.core.groups.GroupAdmin`) moderates and invites in groups;
    `endpoints` are the (name, path) pairs a business pastes into the platform or its site,
    `{id}` being the channel's id (a polled channel has none); `translations` maps a locale to
    the type's description (key "") and its config fields' descriptions in that language."""

    name: str
    config_model: type[BaseModel]
    sender: Sender
    secret_fields: frozenset[str] = frozenset()
    capabilities: Capabilities = Capabilities()
    router: Any = None
    on_created: Any = None
    on_updated: Any = None
    poller: Any = None
    replay: Any = None
    group_admin: Any = None
    description: str = ""
    endpoints: tuple[tuple[str, str], ...] = ()
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def endpoint_paths(self, channel_id: str) -> list[tuple[str, str]]:
        return [(key, path.format(id=channel_id)) for key, path in self.endpoints]


class ChannelRegistry:
    def __init__(self, types: list[ChannelType] | None = None) -> None:
        self._types: dict[str, ChannelType] = {}
        for t in types or []:
            self.register(t)

    def register(self, channel_type: ChannelType) -> None:
        if channel_type.name in self._types:
            raise ValueError(f"channel type {channel_type.name!r} registered twice")
        self._types[channel_type.name] = channel_type

    def get(self, name: str) -> ChannelType | None:
        return self._types.get(name)

    def names(self) -> list[str]:
        return sorted(self._types)

    def check_names(self, names: list[str], where: str = "channels") -> None:
        """Refuse every name no channel type has, all at once (`where.N`, for a client to
        word: `unknown_channel_type`)."""
        raise_all(
            [
                InvalidInput(
                    f"unknown channel type {name!r}",
                    field=f"{where}.{n}",
                    reason="unknown_channel_type",
                    limits={"channel_type": name},
                )
                for n, name in enumerate(names)
                if name not in self._types
            ]
        )

    def __iter__(self) -> Any:
        return iter(self._types.values())


def public_config(channel_type: ChannelType | None, channel: Channel) -> dict[str, Any]:
    """The config as the API shows it: secret fields are never returned."""
    hidden = channel_type.secret_fields if channel_type else frozenset()
    return {k: v for k, v in channel.config.items() if k not in hidden}
