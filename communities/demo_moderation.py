"""The demo's moderation: sensible rules for the sample group (banned words in English and
Chinese, links and media from members younger than 3 days, flood, spam waves), and the
documented Telegram updates of a new member posting a banned link, for the demo to feed
through the webhook after the group's other recorded updates: it is deleted and warned, and
the audit log (`GET /api/v1/communities/{id}/audit`) shows both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kith.communities import actions
from kith.communities.demo_updates import joined
from kith.communities.models import Community, CommunityPatch
from kith.communities.settings import (
    Action,
    FloodRule,
    Moderation,
    NewMembersRule,
    RepeatRule,
    WordsRule,
)
from kith.core.context import Core
from kith.core.models import Author, AuthorKind

WORDS = ["casino", "free money", "crypto giveaway", "加微信", "代开发票", "博彩", "刷单"]
PATTERNS = [r"(?:vx|wx|微信|v信)\s*[:：]?\s*[a-z0-9_-]{5,}"]  # "add me on WeChat: abc123"
SPAMMER = {"id": 424242999, "is_bot": False, "first_name": "Crypto", "last_name": "Carl"}


def rules() -> Moderation:
    return Moderation(
        enabled=True,
        words=WordsRule(enabled=True, words=WORDS, patterns=PATTERNS),
        links=NewMembersRule(enabled=True, min_days=3),
        media=NewMembersRule(enabled=True, min_days=1, actions=[Action.delete]),
        flood=FloodRule(enabled=True, messages=6, seconds=10),
        repeat=RepeatRule(enabled=True, members=3, seconds=600),
        mute_minutes=60,
    )


async def seed_moderation(core: Core, workspace_id: str, community_id: str) -> Community:
    """Turn moderation on for the community (as a manager would, `community.updated`)."""
    manager = Author(kind=AuthorKind.system, name="demo")
    patch = CommunityPatch(moderation=rules())
    return await actions.update(core, workspace_id, community_id, patch, manager)


def spam_updates(chat_id: int, title: str, at: datetime, first_id: int) -> list[dict[str, Any]]:
    """A new member joins `chat_id` (the `chat_member` update and the service message
    Telegram sends the group's admin bot) and, ten seconds later, at `at`, posts a banned
    link (Bot API `Update`s, update and message ids counted from `first_id`)."""
    chat = {"id": chat_id, "title": title, "type": "supergroup"}
    date = int(at.timestamp())
    spam = {
        "message_id": first_id + 1,
        "from": SPAMMER,
        "chat": chat,
        "date": date,
        "text": "💰 FREE MONEY 加微信 领红包 → https://t.me/+spam_group",
    }
    return [
        *joined(chat, SPAMMER, date - 10, first_id, first_id),
        {"update_id": first_id + 2, "message": spam},
    ]
