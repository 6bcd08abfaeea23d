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
