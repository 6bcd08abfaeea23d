"""The roster from documented Telegram updates: joins, leaves, speakers, stats, API."""

from __future__ import annotations

from kith.communities.store import community_id
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain

GROUP = "-1001234567890"


async def _communities(telegram: TelegramSetup) -> list[dict]:  # type: ignore[type-arg]
    answer = await telegram.http.get("/api/v1/communities", headers=telegram.auth)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_a_group_message_makes_the_community_and_its_speaker_a_member(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("group_text"))
    await drain(telegram.core)
    [community] = await _communities(telegram)
    assert community["platform_chat_id"] == GROUP
    assert community["title"] == "Kettle Owners Club"
    assert community["kind"] == "supergroup"
    assert community["member_count"] == 1
    members = await telegram.http.get(
        f"/api/v1/communities/{community['id']}/members", headers=telegram.auth
    )
    [li] = members.json()["items"]
    assert li["platform_user_id"] == "424242003"
    assert li["message_count"] == 1


async def test_joins_and_leaves_keep_the_count_and_redeliveries_change_nothing(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("group_text"))  # Li speaks: on the roster
    await telegram.deliver(update("new_chat_members"))  # Katherine (and a bot) join
    await telegram.deliver(update("new_chat_members"))  # redelivered
    await drain(telegram.core)
    [community] = await _communities(telegram)
    assert community["member_count"] == 2  # the bot is not a member
    await telegram.deliver(update("left_chat_member"))  # Li leaves
    await drain(telegram.core)
    [community] = await _communities(telegram)
    assert community["member_count"] == 1
    left = await telegram.http.get(
        f"/api/v1/communities/{community['id']}/members?status=left", headers=telegram.auth
    )
    [li] = left.json()["items"]
    assert li["name"] == "Li Lei"
    assert li["spans"][-1]["left_at"] is not None
    stats = await telegram.http.get(
        f"/api/v1/communities/{community['id']}/stats?days=366", headers=telegram.auth
    )
    days = stats.json()["days"]
    assert sum(d["joins"] for d in days) == 1
    assert sum(d["leaves"] for d in days) == 1
    assert sum(d["messages"] for d in days) == 1
    assert days[-1]["members"] == 1


async def test_a_community_is_patched_by_field_and_unknown_ids_are_404(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("group_text"))
    await drain(telegram.core)
    cid = community_id(telegram.channel_id, GROUP)
    patched = await telegram.http.patch(
        f"/api/v1/communities/{cid}",
        json={"welcome": {"enabled": True, "texts": {"en": "Welcome, {name}!"}}},
        headers=telegram.auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["welcome"]["texts"] == {"en": "Welcome, {name}!"}
    bad = await telegram.http.patch(
        f"/api/v1/communities/{cid}", json={"welcome": {"nope": 1}}, headers=telegram.auth
    )
    assert bad.status_code == 422
    missing = await telegram.http.get("/api/v1/communities/nope", headers=telegram.auth)
    assert missing.status_code == 404
