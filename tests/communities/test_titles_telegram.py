"""A Telegram community first seen without its chat's title (an update naming only the chat
id) gets it from getChat, asked once, at the fake Bot API."""

from __future__ import annotations

from typing import Any

import pytest

from kith.communities.store import community_id, get_community
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup, update
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.consumers import drain

GROUP = -1001234567890


class BotApiWithChats(FakeBotApi):
    async def _getChat(self, params: dict[str, Any]) -> tuple[int, Any]:
        """A ChatFullInfo as the Bot API documents it."""
        return 200, {
            "id": int(params["chat_id"]),
            "type": "supergroup",
            "title": "Kettle Owners Club",
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }


@pytest.fixture
def callbacks() -> BotApiWithChats:
    return BotApiWithChats(token=BOT_TOKEN)


async def test_an_untitled_chat_is_named_by_get_chat(
    telegram: TelegramSetup, callbacks: BotApiWithChats, workspace_id: str
) -> None:
    joined = update("chat_member_joined")
    del joined["chat_member"]["chat"]["title"]
    for _ in range(2):
        assert (await telegram.deliver(joined)).status_code == 200
        await drain(telegram.core)
    found = await get_community(
        telegram.core, workspace_id, community_id(telegram.channel_id, str(GROUP))
    )
    assert found.title == "Kettle Owners Club"
    [asked] = callbacks.called("getChat")
    assert int(asked["chat_id"]) == GROUP
