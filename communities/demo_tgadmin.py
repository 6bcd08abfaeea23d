"""Demo: a Telegram group's membership told as Telegram tells it, for `kith demo`.

`seed_telegram_membership(core, channel, chat_id, title, start)` feeds documented updates
through the channel type's `replay` (the webhook's own parse-and-handle path, after its
secret check): the bot made an admin (`my_chat_member`), three people joining through the
invite link named `ref-demo` (`chat_member`, each with its service-message copy, which is
not a second join), an anonymous admin's notice and a linked channel's forward (neither a
member), one member leaving. Call it after the sample group exists, with its chat id.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from kith.core.context import Core
from kith.core.dead_letters import Payload
from kith.core.models import Channel

BOT = {"id": 7000000001, "is_bot": True, "first_name": "Kith Shop", "username": "kith_shop_bot"}
ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": True,
}
PEOPLE = [
    {"id": 525252001, "is_bot": False, "first_name": "Mei", "last_name": "Han"},
    {"id": 525252002, "is_bot": False, "first_name": "Tom", "last_name": "Baker"},
    {"id": 525252003, "is_bot": False, "first_name": "Ana", "last_name": "Silva"},
]
OWNER = {"id": 525252000, "is_bot": False, "first_name": "Shop", "last_name": "Owner"}
LINK = {
    "invite_link": "https://t.me/+KithDemo...",
    "creator": BOT,
    "creates_join_request": False,
    "is_primary": False,
    "is_revoked": False,
    "name": "ref-demo",
}


def membership_updates(chat_id: int, title: str, start: datetime) -> list[dict[str, Any]]:
    """The updates, in order, one minute apart from `start` (update ids from 1)."""
    chat = {"id": chat_id, "title": title, "type": "supergroup"}
    channel = {"id": chat_id - 1, "title": f"{title} News", "type": "channel"}
    bodies: list[dict[str, Any]] = [
        {
            "my_chat_member": {
                "chat": chat,
                "from": OWNER,
                "old_chat_member": {"user": BOT, "status": "left"},
                "new_chat_member": {"user": BOT, "status": "administrator", **ADMIN_RIGHTS},
            }
        }
    ]
    for n, person in enumerate(PEOPLE):
        joined = {"old_chat_member": {"user": person, "status": "left"}}
        joined["new_chat_member"] = {"user": person, "status": "member"}
        bodies.append(
            {"chat_member": {"chat": chat, "from": person, **joined, "invite_link": LINK}}
        )
        copy = {"message_id": 900 + n, "from": person, "chat": chat, "new_chat_members": [person]}
        bodies.append({"message": copy})
    bodies.append(
        {
            "message": {
                "message_id": 910,
                "from": {"id": 1087968824, "is_bot": True, "first_name": "Group"},
                "sender_chat": chat,
                "chat": chat,
                "text": "Welcome, everyone! Please read the pinned rules.",
            }
        }
    )
    bodies.append(
        {
            "message": {
                "message_id": 911,
                "from": {"id": 777000, "is_bot": False, "first_name": "Telegram"},
                "sender_chat": channel,
                "chat": chat,
                "is_automatic_forward": True,
                "forward_origin": {"type": "channel", "chat": channel, "message_id": 5, "date": 0},
                "text": "New kettles in stock!",
            }
        }
    )
    leaving = PEOPLE[1]
    bodies.append(
        {
            "chat_member": {
                "chat": chat,
                "from": leaving,
                "old_chat_member": {"user": leaving, "status": "member"},
                "new_chat_member": {"user": leaving, "status": "left"},
            }
        }
    )
    updates = []
    for n, body in enumerate(bodies):
        at = int((start + timedelta(minutes=n)).timestamp())
        [(kind, inner)] = body.items()
        if kind == "message" and "forward_origin" in inner:
            inner["forward_origin"]["date"] = at
        updates.append({"update_id": n + 1, kind: {**inner, "date": at}})
    return updates


async def seed_telegram_membership(
    core: Core, channel: Channel, chat_id: int, title: str, start: datetime
) -> None:
    """Feed `membership_updates` to the Telegram channel as its webhook would."""
    telegram = core.channels.get("telegram")
    if telegram is None or telegram.replay is None:
        return
    for body in membership_updates(chat_id, title, start):
        payload = Payload(body=json.dumps(body).encode(), content_type="application/json")
        await telegram.replay(core, channel, payload)
