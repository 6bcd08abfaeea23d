"""Community broadcasts: one post into each group's conversation, at its time, within
Telegram's limits (30 a second per bot, 20 a minute per group) on a controllable clock, and
exactly once when the worker that posted dies before recording it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from kith.broadcasts.audience import recipients
from kith.broadcasts.feature import feature as broadcasts_feature
from kith.broadcasts.worker import BroadcastWorker
from kith.communities import roster
from kith.communities.models import BotStatus
from kith.communities.store import get_community
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from tests.communities.broadcast_support import groups, posts, run
from tests.connectors.telegram.conftest import TelegramSetup
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.consumers import drain
from tests.support.faults import failing

TEXT = {"en": "Meet-up on Saturday at 10:00!", "zh": "周六上午十点见面会！"}


@pytest.fixture
async def core(core: Core) -> Core:
    """Communities (from the package's conftest) and broadcasts."""
    install(core, [broadcasts_feature(core)])
    await core.start()
    return core


async def broadcast(telegram: TelegramSetup, ids: list[str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Meet-up", "community_ids": ids, "message": {"text": TEXT}, **fields}
    made = await telegram.http.post("/api/v1/broadcasts", json=body, headers=telegram.auth)
    assert made.status_code == 201, made.text
    scheduled = await telegram.http.post(
        f"/api/v1/broadcasts/{made.json()['id']}/schedule", headers=telegram.auth
    )
    assert scheduled.status_code == 200, scheduled.text
    return dict(scheduled.json())


async def stats(telegram: TelegramSetup, broadcast_id: str) -> dict[str, Any]:
    answer = await telegram.http.get(f"/api/v1/broadcasts/{broadcast_id}", headers=telegram.auth)
    return dict(answer.json())


async def get_community_doc(telegram: TelegramSetup, cid: str) -> dict[str, Any]:
    answer = await telegram.http.get(f"/api/v1/communities/{cid}", headers=telegram.auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_scheduled_broadcast_posts_once_into_each_group_in_every_language(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    first, second, gone = await groups(telegram, 3)
    workspace = (await get_community_doc(telegram, gone))["workspace_id"]
    removed = await get_community(telegram.core, workspace, gone)
    await roster.set_bot_status(telegram.core, removed, BotStatus.left)  # the bot was removed
    at = clock.now() + timedelta(minutes=10)
    made = await broadcast(telegram, [first, second, gone], send_at=at.isoformat())
    assert made["community_ids"] == [first, second, gone]

    await run(telegram.core, clock, bot_api, 5)
    assert posts(bot_api) == []  # not before its time
    clock.advance(600)
    await run(telegram.core, clock, bot_api, 5)
    sent = posts(bot_api)
    assert sorted(int(p["chat_id"]) for p in sent) == [-1001000000001, -1001000000000]
    assert {p["text"] for p in sent} == {f"{TEXT['en']}\n\n{TEXT['zh']}"}
    await drain(telegram.core)  # delivery outcomes reach the stats
    await run(telegram.core, clock, bot_api, 2)
    figures = (await stats(telegram, made["id"]))["stats"]
    assert figures["targeted"] == 3
    assert figures["sent"] == 2
    assert figures["delivered"] == 2
    assert figures["skipped"] == {"bot_left": 1}
    stored = await telegram.core.store.messages.find({"purpose": "marketing"}).to_list()
    conversations = {m["conversation_id"] for m in stored}
    wanted = {(await get_community_doc(telegram, c))["conversation_id"] for c in (first, second)}
    assert conversations == wanted and len(stored) == 2  # on the groups' conversations, once


async def test_bad_community_broadcasts_are_refused_naming_the_field(
    telegram: TelegramSetup,
) -> None:
    [one] = await groups(telegram, 1)
    cases = [
        ({"community_ids": ["nope"]}, "community_ids.0"),
        ({"community_ids": [one], "message": {"text": {"en": "Hi {{ customer.name }}"}}}, None),
        ({"community_ids": [one], "channels": ["telegram"]}, None),
        ({"community_ids": [one], "customer_ids": ["c1"]}, None),
    ]
    for fields, field in cases:
        body = {"name": "x", "message": {"text": TEXT}, **fields}
        answer = await telegram.http.post("/api/v1/broadcasts", json=body, headers=telegram.auth)
        assert answer.status_code == 422, (fields, answer.text)
        if field:
            assert answer.json()["error"]["field"] == field
    templated = {
        "name": "x",
        "community_ids": [one],
        "message": {"text": {"en": "{{ customer.name }}"}},
    }
    answer = await telegram.http.post("/api/v1/broadcasts", json=templated, headers=telegram.auth)
    assert answer.json()["error"]["field"] == "message.text.en"


async def test_one_bot_posts_at_most_30_a_second_across_its_groups(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    ids = await groups(telegram, 70)
    await broadcast(telegram, ids)
    seen = await run(telegram.core, clock, bot_api, 8)
    per_second = Counter(int(second) for second, _ in seen)
    assert max(per_second.values()) <= 30
    assert len(per_second) >= 3  # 70 posts need three seconds at least
    assert sorted(chat for _, chat in seen) == sorted(-1001000000000 - n for n in range(70))


async def test_a_group_gets_at_most_20_posts_a_minute(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    [one] = await groups(telegram, 1)
    for _ in range(25):
        await broadcast(telegram, [one])
    seen = await run(telegram.core, clock, bot_api, 150)
    assert len(seen) == 25  # every broadcast posted once
    per_minute = Counter(int(second // 60) for second, _ in seen)
    assert max(per_minute.values()) <= 20
    assert len(per_minute) >= 2


async def test_a_post_whose_worker_died_before_recording_it_is_not_posted_again(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    ids = await groups(telegram, 2)
    made = await broadcast(telegram, ids)
    dying = BroadcastWorker(telegram.core, owner="dying")
    # It posts into both groups, then loses the database before recording either.
    with failing(recipients(telegram.core), "update_one", times=2):
        await dying.run_once()
        await dying.run_once()
    assert await telegram.core.store.messages.count_documents({"purpose": "marketing"}) == 2
    restarted = BroadcastWorker(telegram.core, owner="restarted")
    assert await restarted.run_once() == 0  # still under the dead worker's lease
    clock.advance(telegram.core.settings.broadcast_lease_seconds + 1)
    await run(telegram.core, clock, bot_api, 4)
    assert sorted(int(p["chat_id"]) for p in posts(bot_api)) == [-1001000000001, -1001000000000]
    assert await telegram.core.store.messages.count_documents({"purpose": "marketing"}) == 2
    figures = (await stats(telegram, made["id"]))["stats"]
    assert figures["sent"] == 2


async def test_a_post_without_text_is_refused_in_words_naming_the_field(
    telegram: TelegramSetup,
) -> None:
    """The community page's "Schedule the post" with both boxes empty sends this."""
    [cid] = await groups(telegram, 1)
    body = {"name": "Empty", "community_ids": [cid], "message": {"text": {}}}
    answer = await telegram.http.post("/api/v1/broadcasts", json=body, headers=telegram.auth)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "message.text"
    assert error["message"] == "write the message in at least one language (en or zh)"
    assert error["reason"] == "empty_message"
