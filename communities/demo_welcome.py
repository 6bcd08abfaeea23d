"""The welcome, the rules and raid mode in `kith demo`: `seed_demo_welcome` turns them on for
the sample group; `raid_updates` and `newcomer_update` are Telegram updates, shaped as the Bot
API sends them, that the demo posts to the webhook (50 members at once, and one newcomer).

The demo's clock runs an hour a second, so its windows are hours of demo time (a few real
seconds): a welcome's pause of 3 h lets all 50 joins be worked before anyone is welcomed one by
one, a raid ends after 6 h without joins. The rules have no timeout: whoever has not pressed
the button stays restricted until they do, however long the demo runs (any timeout, 30 days at
most, would pass in 12 real minutes and remove the raid's 50, 林梅 and 韩梅梅)."""

from __future__ import annotations

from typing import Any

from kith.communities import actions
from kith.communities.demo_updates import joined
from kith.communities.models import Community, CommunityPatch
from kith.communities.settings import Rules, Welcome
from kith.core.context import Core
from kith.core.models import Author, AuthorKind

HOUR = 3600
DEMO_WELCOME = Welcome(
    enabled=True,
    texts={
        "en": "Welcome to the Kettle Owners Club, {name}! Ask us anything about your kettle.",
        "zh": "欢迎 {name} 加入水壶俱乐部！关于水壶的问题尽管问。",
    },
    language="en",
    delay_seconds=12 * HOUR,  # 12 s of the demo: the burst is seen as a raid first
    late_hours=30 * 24,  # the demo's clock runs an hour a second: its joins age fast
    raid_seconds=6 * HOUR,
)
DEMO_RULES = Rules(
    enabled=True,
    texts={
        "en": "Rules: be kind, no advertising, no links to other groups.",
        "zh": "群规：友善交流，禁止广告，禁止发其他群的链接。",
    },
    timeout_minutes=None,  # the demo's clock would run through any timeout in minutes
)
RAIDERS = 50


async def seed_demo_welcome(core: Core, workspace_id: str, community_id: str) -> Community:
    """The welcome (English and Chinese) and the rules with their button, on the community."""
    patch = CommunityPatch(welcome=DEMO_WELCOME, rules=DEMO_RULES)
    demo = Author(kind=AuthorKind.system, name="demo")
    return await actions.update(core, workspace_id, community_id, patch, demo)


def raid_updates(chat: dict[str, Any], first_update_id: int, date: int) -> list[dict[str, Any]]:
    """50 members joining within a few seconds (`chat` as the Bot API names it: id, title,
    type), as Telegram tells the group's admin bot (a `chat_member` update and the service
    message for each; update and message ids counted from `first_update_id`): one summary,
    not 50 welcomes."""
    people = [
        {"id": 610_000_000 + n, "is_bot": False, "first_name": f"Visitor {n + 1}"}
        for n in range(RAIDERS)
    ]
    return [
        update
        for n, person in enumerate(people)
        for update in joined(chat, person, date + n // 10, *_ids(first_update_id + 2 * n))
    ]


def newcomer_updates(chat: dict[str, Any], update_id: int, date: int) -> list[dict[str, Any]]:
    """One member joining well after the raid: welcomed in Chinese, with the rules button
    (her `chat_member` update, then the service message)."""
    person = {"id": 620_000_001, "is_bot": False, "first_name": "韩梅梅", "language_code": "zh"}
    return joined(chat, person, date, *_ids(update_id))


def _ids(update_id: int) -> tuple[int, int]:
    """The join's first update id and its service message's id."""
    return update_id, update_id % 1_000_000


def welcome_lines(url: str, community_id: str) -> list[str]:
    """What to look at in the demo."""
    return [
        "  Welcome and raid mode: the sample group welcomes each new member (韩梅梅 in Chinese,",
        "    with the rules button) and restricts them until they accept; the burst of 50 joins",
        "    got one summary and one note for agents, not 50 welcomes; the summary's button",
        "    lets each of them accept the rules (restricted till then: the demo's rules have no",
        "    timeout, so nobody is removed however long the demo runs). Settings:",
        f"    {url}/api/v1/communities/{community_id} (`welcome`, `rules`).",
    ]
