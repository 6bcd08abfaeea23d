"""Who brought whom: joins through an invite link credit its owner; a quick leave revokes
the credit; rejoins and self-referrals count nothing; a deep-link start then a join credits
too; the leaderboard; rewards given once per goal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kith.core.clock import ManualClock
from kith.core.customers import do_erase_customer
from kith.core.timers import TimerWorker
from kith.courtesy.settings import CourtesySettings, save_settings
from tests.communities.referral_support import (
    BotApiWithMe,
    Group,
    customer_of,
    install_admin,
    link,
    link_name,
    make_group,
    private,
)
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup, update
from tests.support.consumers import drain

ADA, GRACE = 424242001, 424242002
BOB, CARL, DAN, EVE = 500001, 500002, 500003, 500004
DAY = 24 * 3600


@pytest.fixture
def callbacks() -> BotApiWithMe:
    return BotApiWithMe(token=BOT_TOKEN)


@pytest.fixture
async def group(telegram: TelegramSetup) -> Group:
    """The group with an admin bot; Ada and Grace have written to the bot privately."""
    install_admin(telegram.core)
    made = await make_group(telegram)
    await telegram.deliver(private(ADA, "Ada", "hello", 1))
    await telegram.deliver(private(GRACE, "Grace", "hi", 2))
    await drain(telegram.core)
    return made


async def board(group: Group) -> list[dict[str, Any]]:
    answer = await group.telegram.http.get(
        f"/api/v1/communities/{group.id}/referrals", headers=group.telegram.auth
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def events(group: Group, type_: str) -> list[dict[str, Any]]:
    return await group.telegram.events(type_)


async def patch(group: Group, referrals: dict[str, Any]) -> None:
    answer = await group.telegram.http.patch(
        f"/api/v1/communities/{group.id}",
        json={"referrals": referrals},
        headers=group.telegram.auth,
    )
    assert answer.status_code == 200, answer.text


async def test_join_leave_and_rejoin_credit_once_and_a_quick_leave_revokes(
    group: Group, clock: ManualClock
) -> None:
    ada = await customer_of(group.core, group.telegram.channel_id, ADA)
    via = link_name(await link(group, ADA))
    await group.join(BOB, "Bob", via)
    [credit] = await events(group, "community.referral_credited")
    assert credit["customer_id"] == ada
    assert credit["data"]["count"] == 1
    [leader] = await board(group)
    assert {k: leader[k] for k in ("customer_id", "name", "credited", "revoked")} == {
        "customer_id": ada,
        "name": "Ada",
        "credited": 1,
        "revoked": 0,
    }
    bob = await customer_of(group.core, group.telegram.channel_id, BOB)
    assert [(b["customer_id"], b["name"], b["status"]) for b in leader["brought"]] == [
        (bob, "Bob", "credited")  # who brought whom
    ]

    clock.advance(8 * DAY)  # past the default 7 days: Bob's leave keeps the credit
    await group.leave(BOB, "Bob")
    await group.join(BOB, "Bob", via)  # join-leave-join: nothing new
    assert len(await events(group, "community.referral_credited")) == 1

    await group.join(CARL, "Carl", via)
    clock.advance(DAY)
    await group.leave(CARL, "Carl")  # within the window: revoked
    [revoked] = await events(group, "community.referral_revoked")
    assert revoked["data"]["count"] == 1
    await group.join(CARL, "Carl", via)  # back again: still not credited
    assert len(await events(group, "community.referral_credited")) == 2
    [leader] = await board(group)
    assert (leader["credited"], leader["revoked"]) == (1, 1)
    assert [(b["name"], b["status"]) for b in leader["brought"]] == [
        ("Carl", "revoked"),  # the latest first
        ("Bob", "credited"),
    ]


async def test_a_referrer_joining_through_their_own_link_is_not_credited(group: Group) -> None:
    via = link_name(await link(group, ADA))
    await group.join(ADA, "Ada", via)
    assert await events(group, "community.referral_credited") == []
    assert await board(group) == []


async def test_a_join_without_a_known_code_or_with_another_groups_code_credits_nobody(
    group: Group,
) -> None:
    await group.join(BOB, "Bob", "spring promo")
    await group.join(CARL, "Carl", "x ref_zzzzzzzzzz")
    await group.join(DAN, "Dan")
    assert await events(group, "community.referral_credited") == []


async def test_a_deep_link_start_then_a_join_credits_the_links_owner(group: Group) -> None:
    invite = await link(group, GRACE)
    start = f"/start ref_{invite['code']}"
    assert invite["deep_link"].endswith(f"?start=ref_{invite['code']}")
    await group.telegram.deliver(private(DAN, "Dan", start, 3))
    await drain(group.core)
    joined = update("new_chat_members")
    dan = {"id": DAN, "is_bot": False, "first_name": "Dan"}
    joined["message"] = {**joined["message"], "new_chat_members": [dan], "from": dan}
    await group.telegram.deliver(joined)  # a service message: no link named
    await drain(group.core)
    [credit] = await events(group, "community.referral_credited")
    grace = await customer_of(group.core, group.telegram.channel_id, GRACE)
    assert credit["customer_id"] == grace
    assert credit["data"]["via"] == "start"
    assert credit["data"]["referred_id"] == await customer_of(
        group.core, group.telegram.channel_id, DAN
    )


async def test_the_leaderboard_puts_the_top_referrer_first(group: Group) -> None:
    ada_via = link_name(await link(group, ADA))
    grace_via = link_name(await link(group, GRACE))
    await group.join(BOB, "Bob", grace_via)
    await group.join(CARL, "Carl", ada_via)
    await group.join(DAN, "Dan", ada_via)
    leaders = await board(group)
    assert [(row["name"], row["credited"]) for row in leaders] == [("Ada", 2), ("Grace", 1)]


async def test_referrals_off_credits_nobody(group: Group) -> None:
    await patch(group, {"enabled": False})
    await group.join(BOB, "Bob", link_name(await link(group, ADA)))
    assert await events(group, "community.referral_credited") == []


GOAL = {
    "id": "pair",
    "every": 2,
    "tag": "ambassador",
    "attribute": {"tier": "gold"},
    "message": {
        "texts": {"en": "Thank you! {count} friends joined. Your coupon: {coupon}"},
        "coupon_code": "THANKS10",
    },
}


async def test_a_goal_rewards_once_with_tag_attribute_and_a_coupon_in_private(
    group: Group, clock: ManualClock
) -> None:
    await patch(group, {"revoke_days": 3, "goals": [GOAL]})
    via = link_name(await link(group, ADA))
    await group.join(BOB, "Bob", via)
    assert await rewarded(group) == []
    await group.join(CARL, "Carl", via)
    [sent] = await rewarded(group)
    assert sent["text"] == "Thank you! 2 friends joined. Your coupon: THANKS10"
    assert sent["channel_id"] == group.telegram.channel_id
    ada = await group.core.store.customers.find_one(
        {"_id": await customer_of(group.core, group.telegram.channel_id, ADA)}
    )
    assert ada is not None
    assert "ambassador" in ada["tags"]
    assert ada["attributes"]["tier"] == "gold"
    private_chat = await group.core.store.conversations.find_one({"_id": sent["conversation_id"]})
    assert private_chat is not None and private_chat["thread_key"] == str(ADA)

    await group.leave(CARL, "Carl")  # revoked: back to 1
    await group.join(DAN, "Dan", via)  # 2 again: the goal was met already
    await drain(group.core)
    assert len(await rewarded(group)) == 1
    await group.join(EVE, "Eve", via)
    await group.join(500005, "Fay", via)  # 4: the goal's next milestone
    assert [m["text"][:23] for m in await rewarded(group)] == [
        "Thank you! 2 friends jo",
        "Thank you! 4 friends jo",
    ]


async def rewarded(group: Group) -> list[dict[str, Any]]:
    found = group.core.store.messages.find({"author.name": "referrals"}).sort("created_at", 1)
    return list(await found.to_list(None))


async def test_a_marketing_reward_asks_consent_first(group: Group) -> None:
    marketing = {**GOAL, "every": 1, "message": {**GOAL["message"], "purpose": "marketing"}}
    await patch(group, {"goals": [marketing]})
    workspace = group.channel.workspace_id
    await save_settings(group.core, workspace, CourtesySettings(require_granted=["telegram"]))
    await group.join(BOB, "Bob", link_name(await link(group, ADA)))
    assert await rewarded(group) == []  # Ada never agreed to marketing on Telegram
    [row] = await group.core.store.collection("community_rewards").find().to_list(None)
    assert (row["done"], row["message"], row["reason"]) == (True, "skipped", "no_consent")
    ada_id = await customer_of(group.core, group.telegram.channel_id, ADA)
    ada = await group.core.store.customers.find_one({"_id": ada_id})
    assert ada is not None and "ambassador" in ada["tags"]  # the rest of the reward is given


async def test_erasing_a_referrer_erases_their_links_and_credits(group: Group) -> None:
    await group.join(BOB, "Bob", link_name(await link(group, ADA)))
    ada = await customer_of(group.core, group.telegram.channel_id, ADA)
    await do_erase_customer(group.core, group.channel.workspace_id, ada)
    store = group.core.store
    assert await store.collection("community_invites").count_documents({}) == 0
    assert await store.collection("community_referrals").count_documents({}) == 0
    assert await board(group) == []


async def test_a_marketing_reward_in_quiet_hours_waits_for_morning(
    group: Group, clock: ManualClock
) -> None:
    marketing = {**GOAL, "every": 1, "message": {**GOAL["message"], "purpose": "marketing"}}
    await patch(group, {"goals": [marketing]})
    now = clock.now()
    quiet = CourtesySettings(
        quiet_start=(now - timedelta(hours=1)).time(),
        quiet_end=(now + timedelta(hours=2)).time().replace(second=0, microsecond=0),
    )
    await save_settings(group.core, group.channel.workspace_id, quiet)
    await group.join(BOB, "Bob", link_name(await link(group, ADA)))
    assert await rewarded(group) == []
    [row] = await group.core.store.collection("community_rewards").find().to_list(None)
    assert (row["message"], row["reason"]) == ("held", "quiet_hours")
    assert await TimerWorker(group.core).run_once() == 0  # not yet
    clock.advance(3 * 3600)
    assert await TimerWorker(group.core).run_once() == 1
    [sent] = await rewarded(group)
    assert sent["purpose"] == "marketing"
    assert await TimerWorker(group.core).run_once() == 0  # sent once
