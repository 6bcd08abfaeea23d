"""The demo's join request: someone asks to join the sample group through an invite link
that needs approval, delivered as Telegram's `chat_join_request` update through the webhook
path. The group leaves requests to its moderators (the default), so once the consumers have
run, the group's conversation in the inbox holds a private note naming who asked and through
which link, and `GET /api/v1/communities/{id}/join-requests` lists it, pending, for
`POST …/join-requests/{request_id}/approve` (or `/decline`).

The lead calls `seed_demo_join_request(core, workspace_id, community_id)` after the sample
group exists (`kith.communities.demo`).
"""

from __future__ import annotations

import json
from typing import Any

from kith.communities.store import get_community
from kith.connectors.telegram.routes import process
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.dead_letters import Payload

ASKER = {
    "id": 990000007,
    "is_bot": False,
    "first_name": "Zhang",
    "last_name": "Wei 张伟",
    "language_code": "zh-hans",
}
LINK_NAME = "Shop window poster"


def join_request_update(chat: dict[str, Any], update_id: int, date: int) -> dict[str, Any]:
    """A `chat_join_request` as the Bot API documents it, through a link needing approval."""
    return {
        "update_id": update_id,
        "chat_join_request": {
            "chat": chat,
            "from": ASKER,
            "user_chat_id": ASKER["id"],
            "date": date,
            "invite_link": {
                "invite_link": "https://t.me/+KettleClubPoster",
                "creator": {"id": 7000000099, "is_bot": True, "first_name": "Kettle Club"},
                "creates_join_request": True,
                "is_primary": False,
                "is_revoked": False,
                "name": LINK_NAME,
                "pending_join_request_count": 1,
            },
        },
    }


async def seed_demo_join_request(core: Core, workspace_id: str, community_id: str) -> None:
    """Zhang Wei asks to join, a minute after the group was first seen (the same update on
    a second call: recorded once)."""
    community = await get_community(core, workspace_id, community_id)
    channel = await get_channel(core, workspace_id, community.channel_id)
    chat = {"id": int(community.platform_chat_id), "title": community.title, "type": community.kind}
    date = int(community.created_at.timestamp()) + 60
    update = join_request_update(chat, 700_300, date)
    body = json.dumps(update, ensure_ascii=False).encode()
    await process(core, channel, Payload(body=body, content_type="application/json"))
