"""A broadcast to communities through the API: bad audiences are refused naming the field a
page shows the error next to, and each community's post is told apart (delivered, failed at
the platform, skipped because the bot left, pending before the send)."""

from __future__ import annotations

from typing import Any

import pytest

from kith.broadcasts.feature import feature as broadcasts_feature
from kith.communities import roster
from kith.communities.feature import feature as communities_feature
from kith.communities.models import BotStatus
from kith.communities.store import get_community
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.segments.records import do_create_segment
from tests.communities.broadcast_support import groups, posts, run
from tests.connectors.telegram.conftest import TelegramSetup, bot_api, callbacks, clock, telegram
from tests.connectors.telegram.fake_bot_api import FakeBotApi, error
from tests.support.consumers import drain

__all__ = ["bot_api", "callbacks", "clock", "telegram"]
TEXT = {"en": "Meet-up on Saturday!", "zh": "周六见面会！"}


@pytest.fixture
async def core(core: Core) -> Core:
    install(core, [communities_feature(core), broadcasts_feature(core)])
    await core.start()
    return core


async def draft(telegram: TelegramSetup, **fields: Any) -> Any:
    body = {"name": "Meet-up", "message": {"text": TEXT}, **fields}
    return await telegram.http.post("/api/v1/broadcasts", json=body, headers=telegram.auth)


async def test_bad_community_audiences_name_their_field(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    one, two = await groups(telegram, 2)
    segment = await do_create_segment(
        telegram.core,
        workspace_id,
        "All",
        {"all": [{"field": "tags", "op": "contains", "value": "x"}]},
    )
    foreign = await roster.see(
        telegram.core,
        roster.Chat("another-workspace", "another-channel", "telegram", "-100777", "Not ours"),
    )
    cases = [
        ({"community_ids": []}, "community_ids", "too_short"),
        ({"community_ids": [one, "nope"]}, "community_ids.1", "unknown_community"),
        ({"community_ids": [foreign.id]}, "community_ids.0", "unknown_community"),
        (
            {"community_ids": [one], "segment_id": segment.id},
            "community_ids",
            "segment_and_communities",
        ),
        (
            {"community_ids": [one], "customer_ids": ["c1"]},
            "community_ids",
            "customers_and_communities",
        ),
        (
            {"community_ids": [one, two], "channels": ["telegram"]},
            "channels",
            "channels_for_communities",
        ),
        (
            {"community_ids": [one], "message": {"text": {"zh": "你好 {{ customer.name }}"}}},
            "message.text.zh",
            "customer_in_community_post",
        ),
    ]
    for fields, field, reason in cases:
        answer = await draft(telegram, **fields)
        assert answer.status_code == 422, (fields, answer.text)
        refused = answer.json()["error"]
        assert (refused["field"], refused["reason"]) == (field, reason), fields
    assert (await draft(telegram, community_ids=[one, two, one])).json()["community_ids"] == [
        one,
        two,
    ]


async def test_each_communitys_post_and_its_outcome(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock, workspace_id: str
) -> None:
    first, second, third, gone = await groups(telegram, 4)
    left = await get_community(telegram.core, workspace_id, gone)
    await roster.set_bot_status(telegram.core, left, BotStatus.left)
    made = (await draft(telegram, community_ids=[first, second, third, gone])).json()
    path = f"/api/v1/broadcasts/{made['id']}"

    before = (await telegram.http.get(f"{path}/communities", headers=telegram.auth)).json()
    assert [(d["community_id"], d["outcome"]) for d in before] == [
        (first, "pending"),
        (second, "pending"),
        (third, "pending"),
        (gone, "pending"),
    ]
    assert before[0]["title"] == "Kettle Club 1" and before[0]["platform"] == "telegram"

    bot_api.fail_next("sendMessage", error(400, "Bad Request: chat not found"))
    await telegram.http.post(f"{path}/schedule", headers=telegram.auth)
    await run(telegram.core, clock, bot_api, 4)
    await drain(telegram.core)
    assert len(posts(bot_api)) == 3  # the failed one is called too, and not again

    after = (await telegram.http.get(f"{path}/communities", headers=telegram.auth)).json()
    outcomes = {d["community_id"]: (d["outcome"], d["reason"]) for d in after}
    assert outcomes[gone] == ("skipped", "bot_left")
    posted = sorted(outcomes[c][0] for c in (first, second, third))
    assert posted == ["delivered", "delivered", "failed"]
    assert all(d["sent_at"] for d in after if d["community_id"] != gone)


async def test_a_broadcast_to_customers_has_no_community_posts(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    await groups(telegram, 1)
    customer = await telegram.core.store.customers.find_one({})
    made = (await draft(telegram, customer_ids=[customer["_id"]], channels=["telegram"])).json()
    answer = await telegram.http.get(
        f"/api/v1/broadcasts/{made['id']}/communities", headers=telegram.auth
    )
    assert answer.status_code == 200 and answer.json() == []
    missing = await telegram.http.get("/api/v1/broadcasts/nope/communities", headers=telegram.auth)
    assert missing.status_code == 404
