"""What the welcome and raid tests share: Telegram updates as the Bot API sends them for a
join, a leave and a button press in the sample group; a `GroupAdmin` that records the calls
(the network boundary) installed on the Telegram channel type; and reads of what was posted."""

from __future__ import annotations

import itertools
from typing import Any

from kith.communities.store import community_id
from kith.core.clock import utcnow
from kith.core.context import Core
from kith.core.timers import TimerWorker
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain
from tests.support.group_admin import RecordingAdmin, set_admin
from tests.support.group_admin import install_admin as shared_install

GROUP = -1001234567890
CHAT = {"id": GROUP, "title": "Kettle Owners Club", "type": "supergroup"}
# Joins happen about when the test's clock starts (a day ahead of the wall clock): a join
# learnt of a day late is not welcomed.
DATE = int(utcnow().replace(microsecond=0).timestamp()) + 86_400
LI = 424242003  # speaks in the group fixture: the community exists from then on
_ids = itertools.count(1)


def install_admin(core: Core, admin: RecordingAdmin | None = None) -> RecordingAdmin:
    """The Telegram channel type, with `admin` (kept to the sample group) as its group
    administration."""
    return shared_install(core, admin if admin is not None else RecordingAdmin(chat=str(GROUP)))


def remove_admin(core: Core) -> None:
    """The Telegram channel type as a channel that offers no group calls (Slack's restrict)."""
    set_admin(core, None)


def user(uid: int, name: str, language: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": name}
    if language:
        found["language_code"] = language
    return found


def joined(*members: dict[str, Any], date: int = DATE) -> dict[str, Any]:
    """A `new_chat_members` service message, as sent when members join."""
    n = next(_ids)
    return {
        "update_id": 900_000_000 + n,
        "message": {
            "message_id": 100_000 + n,
            "from": members[0],
            "chat": CHAT,
            "date": date,
            "new_chat_members": list(members),
        },
    }


def left(member: dict[str, Any], date: int) -> dict[str, Any]:
    n = next(_ids)
    return {
        "update_id": 900_000_000 + n,
        "message": {
            "message_id": 100_000 + n,
            "from": member,
            "chat": CHAT,
            "date": date,
            "left_chat_member": member,
        },
    }


def pressed(member: dict[str, Any], data: str) -> dict[str, Any]:
    """A press on an inline button of one of our messages in the group."""
    n = next(_ids)
    return {
        "update_id": 900_000_000 + n,
        "callback_query": {
            "id": str(7_000_000 + n),
            "from": member,
            "message": {
                "message_id": 55,
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Kith Shop"},
                "chat": CHAT,
                "date": DATE,
                "text": "Welcome!",
            },
            "chat_instance": "-5384756113523649712",
            "data": data,
        },
    }


async def community(telegram: TelegramSetup, **settings: Any) -> dict[str, Any]:
    """The sample group (Li spoke in it), with `settings` patched on."""
    await telegram.deliver(update("group_text"))
    await drain(telegram.core)
    cid = community_id(telegram.channel_id, str(GROUP))
    answer = await telegram.http.patch(
        f"/api/v1/communities/{cid}", json=settings, headers=telegram.auth
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def run_due(core: Core) -> None:
    """Consumers, then every timer due now, then what they caused."""
    await drain(core)
    await TimerWorker(core).run_once()
    await drain(core)


async def posted(core: Core, conversation_id: str, private: bool = False) -> list[dict[str, Any]]:
    """What Kith posted into the group (or noted for agents, `private`), oldest first."""
    query = {"conversation_id": conversation_id, "direction": "out", "private": private}
    found = core.store.messages.find(query).sort([("created_at", 1), ("_id", 1)])
    return list(await found.to_list(None))
