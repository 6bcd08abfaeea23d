"""What the referral tests share: a Bot API that also answers getMe, a recording
`GroupAdmin` installed on the Telegram channel type (the network boundary), and a group whose
membership changes arrive as the Telegram connector hands them to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kith.communities.store import community_id
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.models import Channel, ChannelEvent, ChannelEventKind, InboundUser
from kith.core.pipeline import ingest_event
from tests.connectors.telegram.conftest import TelegramSetup
from tests.connectors.telegram.fake_bot_api import BOT_USER, FakeBotApi
from tests.support.consumers import drain
from tests.support.group_admin import RecordingAdmin as RecordingAdmin
from tests.support.group_admin import install_admin as install_admin

GROUP = "-1001234567890"
TITLE = "Kettle Owners Club"


class BotApiWithMe(FakeBotApi):
    """The fake Bot API, answering getMe as Telegram does (the deep link names the bot)."""

    async def _getMe(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, BOT_USER


@dataclass
class Group:
    """The Kettle Owners Club as the connector reports it."""

    telegram: TelegramSetup
    channel: Channel
    serial: int = 0

    @property
    def core(self) -> Core:
        return self.telegram.core

    @property
    def id(self) -> str:
        return community_id(self.channel.id, GROUP)

    async def change(
        self, kind: ChannelEventKind, user: int, name: str, via: str | None = None, **extra: Any
    ) -> None:
        self.serial += 1
        await ingest_event(
            self.core,
            self.channel,
            ChannelEvent(
                workspace_id=self.channel.workspace_id,
                channel_id=self.channel.id,
                channel_type="telegram",
                event_id=f"chat_member:{self.serial}",
                kind=kind,
                user=InboundUser(id=str(user), name=name),
                thread_key=GROUP,
                group_id=GROUP,
                group_name=TITLE,
                group_kind="supergroup",
                payload=via,
                occurred_at=self.core.clock.now(),
                **extra,
            ),
        )
        await drain(self.core)

    async def join(self, user: int, name: str, via: str | None = None) -> None:
        await self.change(ChannelEventKind.member_joined, user, name, via)

    async def leave(self, user: int, name: str) -> None:
        await self.change(ChannelEventKind.member_left, user, name)

    async def promote_bot(self, admin: bool = True) -> None:
        role = "administrator" if admin else "member"
        await self.change(ChannelEventKind.bot_added, int(str(BOT_USER["id"])), "bot", role=role)


async def make_group(telegram: TelegramSetup, bot_admin: bool = True) -> Group:
    channel = await get_channel(telegram.core, None, telegram.channel_id)
    group = Group(telegram, channel)
    await group.promote_bot(bot_admin)
    return group


def private(user: int, name: str, text: str, n: int) -> dict[str, Any]:
    """A private message to the bot, as Telegram sends it."""
    person = {"id": user, "is_bot": False, "first_name": name, "language_code": "en"}
    message: dict[str, Any] = {
        "message_id": 100 + n,
        "from": person,
        "chat": {"id": user, "first_name": name, "type": "private"},
        "date": 1767225600 + n,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {"update_id": 815100000 + n, "message": message}


async def customer_of(core: Core, channel_id: str, user: int | str) -> str:
    doc = await core.store.identities.find_one({"channel_id": channel_id, "external_id": str(user)})
    assert doc is not None
    return str(doc["customer_id"])


async def link(group: Group, user: int, **body: Any) -> dict[str, Any]:
    """The invite link of the customer behind Telegram user `user`."""
    telegram = group.telegram
    customer = await customer_of(telegram.core, telegram.channel_id, user)
    answer = await telegram.http.post(
        f"/api/v1/communities/{group.id}/invite-links",
        json={"customer_id": customer, **body},
        headers=telegram.auth,
    )
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def link_name(invite: dict[str, Any]) -> str:
    """What Telegram names in `chat_member.invite_link.name` on a join through it."""
    return f"Ada ref_{invite['code']}"
