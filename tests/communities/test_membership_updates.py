"""A Telegram group's membership told as Telegram tells an administrator bot makes the roster
it describes: the bot made an admin (`my_chat_member`), three people joining through the invite
link named `ref-demo` (`chat_member`, each with its service-message copy, which is not a second
join), an anonymous admin's notice and a linked channel's forward (neither a member), and one
member leaving, fed through the channel type's `replay` (the webhook's own path)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kith.communities.demo_updates import bot_admin, invite_link, joined, left
from kith.communities.store import community_id
from kith.core.channel_records import get_channel
from kith.core.clock import ManualClock
from kith.core.dead_letters import Payload
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain

CHAT_ID = -1001999888777
CHAT = {"id": CHAT_ID, "title": "Demo Kettles", "type": "supergroup"}
NEWS = {"id": CHAT_ID - 1, "title": "Demo Kettles News", "type": "channel"}
BOT = {"id": 7000000001, "is_bot": True, "first_name": "Kith Shop", "username": "kith_shop_bot"}
OWNER = {"id": 525252000, "is_bot": False, "first_name": "Shop", "last_name": "Owner"}
PEOPLE = [
    {"id": 525252001, "is_bot": False, "first_name": "Mei", "last_name": "Han"},
    {"id": 525252002, "is_bot": False, "first_name": "Tom", "last_name": "Baker"},
    {"id": 525252003, "is_bot": False, "first_name": "Ana", "last_name": "Silva"},
]
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
TELEGRAM = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


class Ticking(ManualClock):
    """Time moving on between calls, as a real clock does (the roster consumer takes events
    in log order; one frozen instant would leave their order to chance)."""

    def now(self) -> datetime:
        return self.advance(0.001)


def membership_updates(start: datetime) -> list[dict[str, Any]]:
    """The updates in order, one minute apart from `start`."""
    minute = iter(int((start + timedelta(minutes=n)).timestamp()) for n in range(100))
    made_admin = {
        "chat": CHAT,
        "from": OWNER,
        "date": next(minute),
        "old_chat_member": {"user": BOT, "status": "left"},
        "new_chat_member": bot_admin(BOT),
    }
    updates: list[dict[str, Any]] = [{"update_id": 1, "my_chat_member": made_admin}]
    link = invite_link("https://t.me/+KithDemo...", "ref-demo", BOT)
    for n, person in enumerate(PEOPLE):
        updates += joined(CHAT, person, next(minute), len(updates) + 1, 900 + n, link)
    notice = {"from": ANONYMOUS_ADMIN, "sender_chat": CHAT, "text": "Please read the rules."}
    origin = {"type": "channel", "chat": NEWS, "message_id": 5, "date": next(minute)}
    forward = {
        "from": TELEGRAM,
        "sender_chat": NEWS,
        "is_automatic_forward": True,
        "forward_origin": origin,
        "text": "New kettles in stock!",
    }
    for message_id, body in ((910, notice), (911, forward)):
        message = {"message_id": message_id, "chat": CHAT, "date": next(minute), **body}
        updates.append({"update_id": len(updates) + 1, "message": message})
    return updates + left(CHAT, PEOPLE[1], next(minute), len(updates) + 1, 912)


async def test_three_join_through_the_link_one_leaves_and_no_one_else_is_a_member(
    telegram: TelegramSetup,
) -> None:
    core = telegram.core
    channel = await get_channel(core, None, telegram.channel_id)
    core.clock = Ticking(core.clock.now())
    telegram_type = core.channels.get("telegram")
    assert telegram_type is not None and telegram_type.replay is not None
    replay = telegram_type.replay
    for update in membership_updates(datetime(2026, 1, 5, tzinfo=UTC)):
        payload = Payload(body=json.dumps(update).encode(), content_type="application/json")
        await replay(core, channel, payload)
    await drain(core)
    cid = community_id(telegram.channel_id, str(CHAT_ID))
    community = await telegram.http.get(f"/api/v1/communities/{cid}", headers=telegram.auth)
    assert community.json()["member_count"] == 2
    assert community.json()["bot_status"] == "admin"
    members = []
    for status in ("member", "left"):
        page = await telegram.http.get(
            f"/api/v1/communities/{cid}/members?status={status}", headers=telegram.auth
        )
        members += page.json()["items"]
    assert sorted(m["name"] for m in members) == ["Ana Silva", "Mei Han", "Tom Baker"]
    assert {m["spans"][0]["via"] for m in members} == {"ref-demo"}
    assert len(await telegram.messages()) == 2  # the admin's notice and the channel's forward
