"""A `GroupAdmin` that records the calls made to it (the network boundary for the community
tests), installed on the Telegram channel type of a test's core."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kith.core.channels import ChannelRegistry
from kith.core.context import Core
from kith.core.errors import DeliveryError
from kith.core.models import Channel


@dataclass
class RecordingAdmin:
    """Records every call as (method, chat, *arguments) and every invite link asked for;
    `chat`, when given, is the only chat it may be called for; `refuse` makes the next calls
    fail as the platform would."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    chat: str | None = None
    refuse: DeliveryError | None = None
    admins: set[str] = field(default_factory=set)  # what `administrators` answers
    asked: int = 0  # how many times it was asked (not a call on a member: not in `calls`)

    async def bot_names(self, core: Core, channel: Channel) -> frozenset[str]:
        return frozenset()  # members do not address a recorded bot by name

    def _call(self, method: str, chat: str, *args: Any) -> None:
        assert self.chat is None or chat == self.chat, chat
        self.calls.append((method, chat, *args))
        if self.refuse is not None:
            raise self.refuse

    def named(self, method: str) -> list[tuple[Any, ...]]:
        """The arguments (chat first) of each call of `method`."""
        return [c[1:] for c in self.calls if c[0] == method]

    def of(self, user_id: int | str) -> list[str]:
        """The methods called on one member (or message), in order."""
        return [c[0] for c in self.calls if c[2] == str(user_id)]

    def users(self, method: str) -> set[str]:
        """Everyone `method` was called on."""
        return {c[2] for c in self.calls if c[0] == method}

    async def delete_message(self, core: Core, channel: Channel, chat: str, message: str) -> None:
        self._call("delete_message", chat, message)

    async def restrict(
        self, core: Core, channel: Channel, chat: str, user: str, until: datetime | None
    ) -> None:
        self._call("restrict", chat, user, until)

    async def unrestrict(self, core: Core, channel: Channel, chat: str, user: str) -> None:
        self._call("unrestrict", chat, user)

    async def ban(
        self, core: Core, channel: Channel, chat: str, user: str, until: datetime | None
    ) -> None:
        self._call("ban", chat, user, until)

    async def unban(self, core: Core, channel: Channel, chat: str, user: str) -> None:
        self._call("unban", chat, user)

    async def remove(self, core: Core, channel: Channel, chat: str, user: str) -> None:
        self._call("remove", chat, user)

    async def invite_link(
        self,
        core: Core,
        channel: Channel,
        chat: str,
        name: str,
        expire_at: datetime | None,
        member_limit: int | None,
    ) -> str:
        self._call("invite_link", chat, name)
        self.links.append(
            {"chat_id": chat, "name": name, "expire_at": expire_at, "limit": member_limit}
        )
        return f"https://t.me/+link{len(self.links)}"

    async def administrators(self, core: Core, channel: Channel, chat: str) -> frozenset[str]:
        assert self.chat is None or chat == self.chat, chat
        self.asked += 1
        return frozenset(self.admins)


def install_admin(core: Core, admin: RecordingAdmin | None = None) -> RecordingAdmin:
    """The Telegram channel type, with `admin` (a new one if none) as its group
    administration, on this test's core."""
    admin = admin if admin is not None else RecordingAdmin()
    set_admin(core, admin)
    return admin


def set_admin(core: Core, admin: Any) -> None:
    """`admin` as the Telegram channel type's group administration (None: it offers none)."""
    core.channels = ChannelRegistry(
        [replace(t, group_admin=admin) if t.name == "telegram" else t for t in core.channels]
    )
