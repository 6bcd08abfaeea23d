"""What the community broadcast tests share: groups made by a member's message each (as
Telegram sends it), the posts the fake Bot API got, and the workers run once a clock second."""

from __future__ import annotations

from typing import Any

from kith.broadcasts.worker import BroadcastWorker
from kith.communities.store import community_id
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.outbox import OutboxWorker
from tests.connectors.telegram.conftest import TelegramSetup
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.consumers import drain


def group_text(chat: int, n: int, user: int = 424242003) -> dict[str, Any]:
    """A member's message in a group, as Telegram sends it: it makes the community."""
    return {
        "update_id": 900000000 + n,
        "message": {
            "message_id": n,
            "from": {"id": user, "is_bot": False, "first_name": "Li", "last_name": "Lei"},
            "chat": {"id": chat, "title": f"Kettle Club {n}", "type": "supergroup"},
            "date": 1767225602,
            "text": "hello",
        },
    }


async def groups(telegram: TelegramSetup, count: int) -> list[str]:
    """`count` communities (their ids) on the test bot."""
    chats = [-1001000000000 - n for n in range(count)]
    for n, chat in enumerate(chats):
        assert (await telegram.deliver(group_text(chat, n + 1))).status_code == 200
    await drain(telegram.core)
    return [community_id(telegram.channel_id, str(chat)) for chat in chats]


def posts(bot_api: FakeBotApi) -> list[dict[str, Any]]:
    return bot_api.called("sendMessage")


async def run(
    core: Core, clock: ManualClock, bot_api: FakeBotApi, seconds: int
) -> list[tuple[float, int]]:
    """Workers pass once a clock second; (second, chat id) of every post the bot API got."""
    seen: list[tuple[float, int]] = []
    workers = BroadcastWorker(core), OutboxWorker(core)
    for _ in range(seconds):
        before = len(posts(bot_api))
        await workers[0].run_once()
        await workers[1].run_once()
        now = clock.now().timestamp()
        seen += [(now, int(p["chat_id"])) for p in posts(bot_api)[before:]]
        clock.advance(1)
    return seen
