"""What a Slack app can do to a channel it is in (`kith.core.groups.GroupAdmin`): remove a
member (`conversations.kick`) and delete a message (`chat.delete`). With a bot token,
`chat.delete` works on the bot's own messages only; a member's needs a user token, which
Kith does not hold, so Slack's `cant_delete_message` is `Unsupported`. Slack has no mute,
no ban, no invite links and no join requests for a channel: those are `Unsupported` without
a call."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from kith.connectors.slack.sender import TIMEOUT_SECONDS, client_for, error_code, failure
from kith.core.egress import EgressRefused, aiohttp_session
from kith.core.errors import DeliveryError
from kith.core.groups import Unsupported

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel

DONE_ALREADY = {  # what a retried call finds: the job is done
    "chat.delete": frozenset({"message_not_found"}),
    "conversations.kick": frozenset({"not_in_channel"}),
}
UNSUPPORTED = {
    "cant_delete_message": "Slack lets a bot delete only its own messages; deleting a "
    "member's message needs a user token",
    "restricted_action": "the workspace's settings do not let this app do that",
    "cant_kick_from_general": "nobody can be removed from the workspace's #general",
}


def slack_ts(chat_id: str, message_id: str) -> str:
    """Kith keeps a Slack message as `"<channel>:<ts>"`; a bare `ts` is taken too."""
    channel, _, ts = message_id.rpartition(":")
    if channel and channel != chat_id:
        raise DeliveryError(f"message {message_id!r} is not in {chat_id}", retryable=False)
    return ts


async def _call(
    core: Core, channel: Channel, method: str, params: dict[str, Any], *, form: bool = False
) -> dict[str, Any]:
    """One Web API call as JSON (as slack_sdk sends these methods), or as a form for the
    read methods that take no JSON; Slack's answer."""
    try:
        async with aiohttp_session(core.egress, TIMEOUT_SECONDS) as session:
            client = client_for(channel, session)
            if form:
                answer = await client.api_call(method, data=params)
            else:
                answer = await client.api_call(method, json=params)
            return dict(answer.data) if isinstance(answer.data, dict) else {}
    except SlackApiError as exc:
        code = error_code(exc)
        if code in DONE_ALREADY.get(method, ()):
            return {}
        if code in UNSUPPORTED:
            raise Unsupported(UNSUPPORTED[code]) from None
        raise failure(exc, f"Slack refused {method}") from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, EgressRefused):
            raise DeliveryError(f"Slack: {exc.os_error}", retryable=False) from None
        raise DeliveryError(f"Slack unreachable: {type(exc).__name__}") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryError(f"Slack unreachable: {type(exc).__name__}") from None


class SlackGroupAdmin:
    async def delete_message(
        self, core: Core, channel: Channel, chat_id: str, message_id: str
    ) -> None:
        params = {"channel": chat_id, "ts": slack_ts(chat_id, message_id)}
        await _call(core, channel, "chat.delete", params)

    async def remove(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        await _call(core, channel, "conversations.kick", {"channel": chat_id, "user": user_id})

    async def restrict(
        self, core: Core, channel: Channel, chat_id: str, user_id: str, until: datetime | None
    ) -> None:
        raise Unsupported("Slack cannot mute a member of a channel")

    async def unrestrict(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        raise Unsupported("Slack cannot mute a member of a channel")

    async def ban(
        self, core: Core, channel: Channel, chat_id: str, user_id: str, until: datetime | None
    ) -> None:
        raise Unsupported("Slack cannot keep someone out of a channel (remove them instead)")

    async def unban(self, core: Core, channel: Channel, chat_id: str, user_id: str) -> None:
        raise Unsupported("Slack keeps no one out of a channel: there is no ban to lift")

    async def invite_link(
        self,
        core: Core,
        channel: Channel,
        chat_id: str,
        name: str,
        expire_at: datetime | None,
        member_limit: int | None,
    ) -> str:
        raise Unsupported("Slack has no invite links for a channel")

    async def approve_join_request(
        self, core: Core, channel: Channel, chat_id: str, user_id: str
    ) -> None:
        raise Unsupported("Slack channels have no join requests")

    async def decline_join_request(
        self, core: Core, channel: Channel, chat_id: str, user_id: str
    ) -> None:
        raise Unsupported("Slack channels have no join requests")

    async def bot_names(self, core: Core, channel: Channel) -> frozenset[str]:
        """None: Slack mentions a bot by its user id, which the connector reads itself."""
        return frozenset()

    async def administrators(
        self, core: Core, channel: Channel, chat_id: str
    ) -> frozenset[str] | None:
        raise Unsupported("Slack channels have no administrators of their own")

    async def title(self, core: Core, channel: Channel, chat_id: str) -> str | None:
        """conversations.info: the channel's name, without Slack's `#` (the app needs
        `channels:read`, and `groups:read` for private channels)."""
        info = await _call(core, channel, "conversations.info", {"channel": chat_id}, form=True)
        found = info.get("channel")
        name = found.get("name") if isinstance(found, dict) else None
        return name[:256] if isinstance(name, str) and name else None
