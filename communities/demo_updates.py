"""The demo group's membership as Telegram tells an administrator bot of it.

The demo's bot administers its sample supergroup, so Telegram sends it a `chat_member`
update (a `ChatMemberUpdated`: the member's old and new `ChatMember`, and the `invite_link`
a join came through) for every join and leave, and also, as it does in any group, the
`new_chat_members` / `left_chat_member` service message, which names no link. Kith records
the first and not the second (`kith.connectors.telegram.members`); the demo sends both, as
Telegram does, so one join is one member.
"""

from __future__ import annotations

from typing import Any

# The demo bot's rights in the sample group (`ChatMemberAdministrator`'s fields): it deletes
# messages and restricts members for moderation and the rules, and makes invite links.
ADMIN_RIGHTS: dict[str, Any] = {
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


def bot_admin(bot: dict[str, Any]) -> dict[str, Any]:
    """The bot as an administrator (`ChatMemberAdministrator`)."""
    return {"user": bot, "status": "administrator", **ADMIN_RIGHTS}


def changed(
    chat: dict[str, Any],
    user: dict[str, Any],
    date: int,
    old: str,
    new: str,
    link: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `ChatMemberUpdated` of `user` from status `old` to `new`, done by themselves (a
    join by link or by the group's public username, a leave)."""
    change: dict[str, Any] = {
        "chat": chat,
        "from": user,
        "date": date,
        "old_chat_member": {"user": user, "status": old},
        "new_chat_member": {"user": user, "status": new},
    }
    if link is not None:
        change["invite_link"] = link
    return change


def invite_link(url: str, name: str, creator: dict[str, Any]) -> dict[str, Any]:
    """A `ChatInviteLink` the bot created with `name` (its name comes back on each join)."""
    return {
        "invite_link": url,
        "creator": creator,
        "creates_join_request": False,
        "is_primary": False,
        "is_revoked": False,
        "name": name,
    }


def joined(
    chat: dict[str, Any],
    user: dict[str, Any],
    date: int,
    update_id: int,
    message_id: int,
    link: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A join: the `chat_member` update (`left` → `member`), then the service message."""
    service = {
        "message_id": message_id,
        "from": user,
        "chat": chat,
        "date": date,
        "new_chat_members": [user],
    }
    return [
        {"update_id": update_id, "chat_member": changed(chat, user, date, "left", "member", link)},
        {"update_id": update_id + 1, "message": service},
    ]


def left(
    chat: dict[str, Any], user: dict[str, Any], date: int, update_id: int, message_id: int
) -> list[dict[str, Any]]:
    """A leave: the `chat_member` update (`member` → `left`), then the service message."""
    service = {
        "message_id": message_id,
        "from": user,
        "chat": chat,
        "date": date,
        "left_chat_member": user,
    }
    return [
        {"update_id": update_id, "chat_member": changed(chat, user, date, "member", "left")},
        {"update_id": update_id + 1, "message": service},
    ]
