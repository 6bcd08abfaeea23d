"""The demo's referrals: a sample member's link, a join through it, the reward."""

from __future__ import annotations

import pytest

from kith.communities.demo_referrals import seed_demo_referrals
from tests.communities.referral_support import BotApiWithMe, customer_of, make_group
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup
from tests.support.consumers import drain

ADA = 424242001


@pytest.fixture
def callbacks() -> BotApiWithMe:
    return BotApiWithMe(token=BOT_TOKEN)


async def test_the_demo_credits_its_sample_member_and_rewards_them(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    group = await make_group(telegram)
    assert await seed_demo_referrals(telegram.core, workspace_id, group.id) is None
    await group.join(ADA, "Ada")
    invite = await seed_demo_referrals(telegram.core, workspace_id, group.id)
    assert invite is not None  # its link made by the Telegram GroupAdmin at the fake Bot API
    assert invite.invite_link == "https://t.me/+KithInvite000001"
    await drain(telegram.core)
    ada = await customer_of(telegram.core, telegram.channel_id, ADA)
    board = await telegram.http.get(
        f"/api/v1/communities/{group.id}/referrals", headers=telegram.auth
    )
    assert [(r["customer_id"], r["credited"]) for r in board.json()["items"]] == [(ada, 1)]
    doc = await telegram.core.store.customers.find_one({"_id": ada})
    assert doc is not None and "ambassador" in doc["tags"]
    assert doc["referrals"]["count"] == 1
    again = await seed_demo_referrals(telegram.core, workspace_id, group.id)
    await drain(telegram.core)
    assert again is not None and again.code == invite.code
    assert len(await telegram.events("community.referral_credited")) == 1


async def test_a_link_seeded_before_the_bot_api_served_is_completed_once_it_does(
    telegram: TelegramSetup, workspace_id: str, callbacks: BotApiWithMe
) -> None:
    """`kith demo` seeds before its server (and so its Bot API) listens: the sample member's
    link had no platform link for the whole demo; it is filled in once the server answers."""
    from kith.communities.demo_referrals import complete_demo_links
    from tests.connectors.telegram.fake_bot_api import error

    group = await make_group(telegram)
    await group.join(ADA, "Ada")
    callbacks.fail_next("createChatInviteLink", error(502, "Bad Gateway"))
    seeded = await seed_demo_referrals(telegram.core, workspace_id, group.id)
    assert seeded is not None and seeded.invite_link is None

    assert await complete_demo_links(telegram.core, workspace_id) == 1

    board = await telegram.http.get(
        f"/api/v1/communities/{group.id}/referrals", headers=telegram.auth
    )
    assert board.status_code == 200
    doc = await telegram.core.store.collection("community_invites").find_one({"_id": seeded.id})
    assert doc is not None and doc["invite_link"] == "https://t.me/+KithInvite000001"
    assert doc["code"] == seeded.code  # the join already credited through it still counts
    assert await complete_demo_links(telegram.core, workspace_id) == 0
