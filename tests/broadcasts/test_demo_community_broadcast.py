"""The demo's community broadcast: the sample group gets a Shanghai chapter (some of its
members), so the Broadcasts page has communities to pick, and a draft goes to both."""

from __future__ import annotations

import pytest

from kith.broadcasts.actions import do_schedule, list_broadcasts
from kith.broadcasts.demo import CHAPTER, CHAPTER_SIZE, seed_demo_community_broadcast
from kith.broadcasts.feature import feature as broadcasts_feature
from kith.broadcasts.worker import BroadcastWorker
from kith.communities.broadcasts import choices
from kith.communities.demo import BOT_TOKEN, CHAT, seed_demo_community
from kith.communities.feature import feature as communities_feature
from kith.communities.store import members
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Author, AuthorKind
from kith.core.outbox import OutboxWorker
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.consumers import drain


@pytest.fixture
def callbacks() -> FakeBotApi:
    """Telegram, as the demo bot reaches it (any host: Core's HTTP client)."""
    return FakeBotApi(token=BOT_TOKEN)


@pytest.fixture
async def core(core: Core) -> Core:
    install(core, [communities_feature(core), broadcasts_feature(core)])
    await core.start()
    return core


async def test_the_demo_has_two_communities_to_pick_and_a_draft_to_both(
    core: Core, workspace_id: str
) -> None:
    club = await seed_demo_community(core, workspace_id)
    await seed_demo_community_broadcast(core, workspace_id, club)

    offered = {c.title: c for c in await choices(core, workspace_id)}
    assert set(offered) == {CHAT["title"], CHAPTER["title"]}
    chapter = offered[str(CHAPTER["title"])]
    assert (chapter.platform, chapter.member_count, chapter.can_post) == ("telegram", 8, True)
    assert offered[str(CHAT["title"])].member_count > CHAPTER_SIZE
    joined = await members(core).find({"community_id": chapter.id}).to_list()
    in_club = await members(core).count_documents(
        {"community_id": club.id, "customer_id": {"$in": [m["customer_id"] for m in joined]}}
    )
    assert in_club == CHAPTER_SIZE  # the chapter's members are the club's own customers

    (draft,), _ = await list_broadcasts(core, workspace_id, cursor=None, limit=5)
    assert draft.community_ids == [club.id, chapter.id] and draft.status == "draft"
    assert draft.channels == [] and set(draft.message.text) == {"en", "zh"}


async def test_the_demo_draft_posts_into_both_groups_once_scheduled(
    core: Core, workspace_id: str, callbacks: FakeBotApi
) -> None:
    club = await seed_demo_community(core, workspace_id)
    await seed_demo_community_broadcast(core, workspace_id, club)
    (draft,), _ = await list_broadcasts(core, workspace_id, cursor=None, limit=5)
    await do_schedule(core, draft, Author(kind=AuthorKind.agent, name="Mary"))
    for _ in range(3):
        await BroadcastWorker(core).run_once()
        await OutboxWorker(core).run_once()
    await drain(core)
    chats = sorted(int(p["chat_id"]) for p in callbacks.called("sendMessage"))
    assert chats == sorted([int(CHAT["id"]), int(CHAPTER["id"])])
    (done,), _ = await list_broadcasts(core, workspace_id, cursor=None, limit=5)
    assert (done.stats.sent, done.stats.delivered) == (2, 2)
