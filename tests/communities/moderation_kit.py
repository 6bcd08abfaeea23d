"""For the moderation tests: a recording `GroupAdmin` installed on the Telegram channel type
(the network boundary: the Telegram one is not on this branch), and Telegram updates shaped
as the Bot API documents them, dated by the test's clock."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from kith.communities.store import community_id
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.group_admin import RecordingAdmin as RecordingAdmin
from tests.support.group_admin import install_admin as install_admin

GROUP = -1001234567890
TITLE = "Kettle Owners Club"
_ids = itertools.count(1000)


def user(uid: int, name: str) -> dict[str, Any]:
    first, _, last = name.partition(" ")
    return {
        "id": uid,
        "is_bot": False,
        "first_name": first,
        **({"last_name": last} if last else {}),
    }


def chat() -> dict[str, Any]:
    return {"id": GROUP, "title": TITLE, "type": "supergroup"}


def post(at: datetime, uid: int, name: str, text: str, **extra: Any) -> dict[str, Any]:
    """A member's message in the group (`extra`: photo, sender_chat, is_automatic_forward …)."""
    message_id = next(_ids)
    message = {
        "message_id": message_id,
        "from": user(uid, name),
        "chat": chat(),
        "date": int(at.timestamp()),
        **({"text": text} if text else {}),
        **extra,
    }
    return {"update_id": 900_000_000 + message_id, "message": message}


def edited(at: datetime, posted: dict[str, Any], text: str) -> dict[str, Any]:
    """`edited_message`: the sender of `posted` changed its text at `at`."""
    message = {**posted["message"], "edit_date": int(at.timestamp()), "text": text}
    return {"update_id": 900_000_000 + next(_ids), "edited_message": message}


def joined(at: datetime, uid: int, name: str) -> dict[str, Any]:
    """`new_chat_members`: `name` joined the group at `at`."""
    message_id = next(_ids)
    member = user(uid, name)
    message = {
        "message_id": message_id,
        "from": member,
        "chat": chat(),
        "date": int(at.timestamp()),
        "new_chat_members": [member],
    }
    return {"update_id": 900_000_000 + message_id, "message": message}


def pressed(uid: int, name: str, data: str, label: str = "Appeal") -> dict[str, Any]:
    """A press on the inline button `data` of a bot message in the group."""
    message_id = next(_ids)
    return {
        "update_id": 900_000_000 + message_id,
        "callback_query": {
            "id": f"cb{message_id}",
            "from": user(uid, name),
            "message": {
                "message_id": message_id,
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Kith Shop"},
                "chat": chat(),
                "date": 1767225700,
                "text": "warning",
                "reply_markup": {"inline_keyboard": [[{"text": label, "callback_data": data}]]},
            },
            "chat_instance": "-538475611352364",
            "data": data,
        },
    }


def private(at: datetime, uid: int, name: str, text: str) -> dict[str, Any]:
    """A message to the bot in a private chat."""
    message_id = next(_ids)
    message = {
        "message_id": message_id,
        "from": user(uid, name),
        "chat": {"id": uid, "type": "private", "first_name": name},
        "date": int(at.timestamp()),
        "text": text,
    }
    return {"update_id": 900_000_000 + message_id, "message": message}


def cid(telegram: TelegramSetup) -> str:
    return community_id(telegram.channel_id, str(GROUP))


async def set_rules(telegram: TelegramSetup, **moderation: Any) -> None:
    """The community exists once a message was seen; then its moderation is patched."""
    answer = await telegram.http.patch(
        f"/api/v1/communities/{cid(telegram)}",
        json={"moderation": {"enabled": True, **moderation}},
        headers=telegram.auth,
    )
    assert answer.status_code == 200, answer.text


async def audit_rows(telegram: TelegramSetup, **params: str) -> list[dict[str, Any]]:
    answer = await telegram.http.get(
        f"/api/v1/communities/{cid(telegram)}/audit", params=params, headers=telegram.auth
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def key(message: dict[str, Any]) -> str:
    """The stored `channel_message_id` of a delivered update's message."""
    return f"{GROUP}:{message['message']['message_id']}"
