"""What a channel can do to a group it administers, beyond posting: the moderation and
invitation calls communities make (`ChannelType.group_admin`, None where the platform has
none). Posting into a group is an ordinary outbound message on the group's conversation.

Every method raises `DeliveryError` (retryable or not) like a sender, and `Unsupported` for
what the platform cannot do (Slack cannot restrict a member)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel


class Unsupported(Exception):
    """The platform has no such call (the action is recorded as not taken, with why)."""


class GroupAdmin(Protocol):
    async def delete_message(
        self, core: Core, channel: Channel, chat_id: str, message_id: str
    ) -> None: ...

    async def restrict(
        self, core: Core, channel: Channel, chat_id: str, user_id: str, until: datetime | None
    ) -> None:
        """The member may read but not post until `until` (None: until lifted)."""

    async def unrestrict(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        """The member may post again (the group's default rights)."""

    async def ban(
        self, core: Core, channel: Channel, chat_id: str, user_id: str, until: datetime | None
    ) -> None:
        """Removed, and kept out until `until` (None: for good)."""

    async def unban(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        """A ban lifted: they may join again (nothing changes for someone not banned)."""

    async def remove(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        """Removed; they may join again (a ban lifted at once)."""

    async def invite_link(
        self,
        core: Core,
        channel: Channel,
        chat_id: str,
        name: str,
        expire_at: datetime | None,
        member_limit: int | None,
    ) -> str:
        """A new invite link named `name` (attribution reads the name back on join)."""

    async def approve_join_request(
        self, core: Core, channel: Channel, chat_id: str, user_id: str
    ) -> None:
        """Let in someone who asked to join through a link that needs approval."""

    async def decline_join_request(
        self, core: Core, channel: Channel, chat_id: str, user_id: str
    ) -> None:
        """Turn down such a request (they may ask again)."""

    async def title(self, core: Core, channel: Channel, chat_id: str) -> str | None:
        """The group's name as the platform has it now (None: it has none to say)."""

    async def bot_names(self, core: Core, channel: Channel) -> frozenset[str]:
        """The usernames members address our bot by in a group, lowercased (Telegram's
        `@kettle_bot`); empty where the platform addresses bots otherwise (Slack's `<@U…>`)."""

    async def administrators(
        self, core: Core, channel: Channel, chat_id: str
    ) -> frozenset[str] | None:
        """The platform ids of the group's owner and administrators, as the platform has
        them now, or recently (None: it cannot say). Moderation never acts on them."""
