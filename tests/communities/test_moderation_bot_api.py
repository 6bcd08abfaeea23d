"""Moderation end to end at the fake Bot API: a banned word from a member is deleted, the
member muted and warned, each as a Bot API call Telegram documents (no stand-in admin)."""

from __future__ import annotations

from datetime import timedelta

from kith.core.clock import ManualClock
from kith.core.outbox import OutboxWorker
from tests.communities.moderation_kit import audit_rows, joined, post, set_rules
from tests.connectors.telegram.conftest import TelegramSetup
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.consumers import drain

GROUP = -1001234567890
OLD = (424242103, "Olga Oldtimer")
CARL = (424242104, "Casino Carl")


async def test_delete_mute_and_warn_reach_the_bot_api(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    await telegram.deliver(joined(clock.now() - timedelta(days=30), *OLD))
    await drain(telegram.core)
    await telegram.deliver(post(clock.now(), *OLD, "Good morning"))
    await drain(telegram.core)
    actions = ["delete", "mute", "warn"]
    await set_rules(telegram, words={"enabled": True, "words": ["casino"], "actions": actions})
    await telegram.deliver(joined(clock.now() - timedelta(days=10), *CARL))
    await drain(telegram.core)
    spam = post(clock.now(), *CARL, "Best c a s i n o bonus tonight")
    await telegram.deliver(spam)
    await drain(telegram.core)
    await OutboxWorker(telegram.core).run_once()  # the warning is a post into the group

    [deleted] = bot_api.called("deleteMessage")
    assert int(deleted["chat_id"]) == GROUP
    assert int(deleted["message_id"]) == spam["message"]["message_id"]
    [muted] = bot_api.called("restrictChatMember")
    assert int(muted["user_id"]) == CARL[0] and int(muted["until_date"]) > 0
    warnings = [p for p in bot_api.called("sendMessage") if int(p["chat_id"]) == GROUP]
    assert len(warnings) == 1 and "Casino Carl" in warnings[0]["text"]
    rows = await audit_rows(telegram)
    assert {row["action"] for row in rows} == set(actions)
