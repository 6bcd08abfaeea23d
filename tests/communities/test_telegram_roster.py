"""The roster from Telegram's membership updates, through the webhook: `chat_member` with its
invite link, `my_chat_member`, service messages, migrations, and what is not a member."""

from __future__ import annotations

from typing import Any

from kith.communities.store import community_id
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain

GROUP = "-1001234567890"
OLD_GROUP = "-4012345678"
GRACE = "424242005"


async def _feed(telegram: TelegramSetup, *updates: str | dict[str, Any]) -> None:
    """Deliver in order, each handled before the next (as time passes between updates: the
    consumer takes the events of one instant in any order)."""
    for one in updates:
        answer = await telegram.deliver(update(one) if isinstance(one, str) else one)
        assert answer.status_code == 200, answer.text
        await drain(telegram.core)


async def _community(telegram: TelegramSetup) -> dict[str, Any]:
    await drain(telegram.core)
    answer = await telegram.http.get("/api/v1/communities", headers=telegram.auth)
    [community] = answer.json()["items"]
    return dict(community)


async def _members(telegram: TelegramSetup, cid: str, status: str = "member") -> list[Any]:
    answer = await telegram.http.get(
        f"/api/v1/communities/{cid}/members?status={status}", headers=telegram.auth
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_a_join_through_a_link_keeps_its_name_whichever_copy_comes_first(
    telegram: TelegramSetup,
) -> None:
    await _feed(
        telegram,
        "my_chat_member_admin",
        "new_chat_member_grace",  # the service message first
        "chat_member_joined",
        "chat_member_joined",  # redelivered
    )
    community = await _community(telegram)
    assert community["member_count"] == 1
    assert community["bot_status"] == "admin"
    [grace] = await _members(telegram, community["id"])
    assert grace["platform_user_id"] == GRACE
    assert [span["via"] for span in grace["spans"]] == ["ref-ada"]
    [joined] = await telegram.events("community.member_joined")
    assert joined["data"]["via"] == "ref-ada"


async def test_leaves_from_chat_member_and_service_messages_without_the_bot_as_admin(
    telegram: TelegramSetup,
) -> None:
    await _feed(telegram, "group_text", "new_chat_members")  # Li speaks; Katherine (and a bot)
    community = await _community(telegram)
    assert community["member_count"] == 2
    await _feed(telegram, "left_chat_member")  # Li leaves (the bot is no admin so far)
    await _feed(telegram, "chat_member_joined", "chat_member_kicked")  # Grace by link, removed
    community = await _community(telegram)
    assert community["member_count"] == 1
    left = await _members(telegram, community["id"], "left")
    assert sorted(m["name"] for m in left) == ["Grace Hopper", "Li Lei"]


async def test_a_migrated_group_keeps_its_roster_under_the_new_chat_id(
    telegram: TelegramSetup,
) -> None:
    old_text = update("group_text")
    old_text["message"]["chat"] = {"id": int(OLD_GROUP), "title": "Kettle Owners Club"}
    await _feed(telegram, old_text, "migrate_to_chat_id", "migrate_from_chat_id")  # Li spoke
    community = await _community(telegram)
    assert community["id"] == community_id(telegram.channel_id, OLD_GROUP)
    await _feed(telegram, update("group_text", update_id=815000050), "chat_member_joined")
    community = await _community(telegram)
    assert community["platform_chat_id"] == GROUP
    assert community["kind"] == "supergroup"
    assert community["migrated_from"] == [OLD_GROUP]
    assert community["member_count"] == 2
    li, grace = sorted(
        await _members(telegram, community["id"]), key=lambda m: m["name"] != "Li Lei"
    )
    assert li["message_count"] == 2
    assert grace["spans"][-1]["via"] == "ref-ada"
    assert len(await telegram.events("community.migrated")) == 1


async def test_after_the_bot_is_removed_updates_change_nothing(telegram: TelegramSetup) -> None:
    await _feed(telegram, "my_chat_member_admin", "group_text", "my_chat_member_removed")
    community = await _community(telegram)
    assert community["bot_status"] == "left"
    await telegram.deliver(update("chat_member_joined"))
    await telegram.deliver(update("group_reply"))
    community = await _community(telegram)
    assert community["member_count"] == 1
    assert await telegram.events("community.member_joined") == []


async def test_the_group_itself_its_channel_and_forwards_are_no_new_members(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("group_text"))
    await telegram.deliver(update("anonymous_admin"))
    await telegram.deliver(update("automatic_forward"))
    await telegram.deliver(update("anonymous_admin"))  # redelivered
    community = await _community(telegram)
    assert community["member_count"] == 1
    await telegram.deliver(update("forwarded_spam"))  # Grace forwards: she is the speaker
    community = await _community(telegram)
    assert community["member_count"] == 2
    ids = {m["platform_user_id"] for m in await _members(telegram, community["id"])}
    assert ids == {"424242003", GRACE}


async def test_a_channel_is_a_community_of_its_own_kind(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("channel_post"))
    community = await _community(telegram)
    assert (community["kind"], community["title"]) == ("channel", "Kettle News")
    assert community["member_count"] == 0
