"""Membership, migrations and posts not made by members, from documented Telegram updates."""

from __future__ import annotations

from typing import Any

from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.connectors.telegram.fake_bot_api import FakeBotApi, error

GROUP = "-1001234567890"
OLD_GROUP = "-4012345678"
CHANNEL = "-1009876543210"
GRACE = "424242005"


async def _data(telegram: TelegramSetup, type_: str) -> list[dict[str, Any]]:
    return [e["data"] for e in await telegram.events(type_)]


async def test_a_join_through_a_named_invite_link_carries_its_name_once(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("chat_member_joined"))
    await telegram.deliver(update("chat_member_joined"))  # redelivered
    [joined] = await telegram.events("channel.member_joined")
    assert joined["data"]["user"]["id"] == GRACE
    assert joined["data"]["role"] == "member"
    assert joined["data"]["payload"] == "ref-ada"
    assert (joined["data"]["group_id"], joined["data"]["group_kind"]) == (GROUP, "supergroup")
    assert joined["actor"]["name"] == "Grace Hopper"


async def test_leaving_and_being_removed_are_leaves_with_the_new_status(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("chat_member_left"))
    await telegram.deliver(update("chat_member_kicked"))
    left = await _data(telegram, "channel.member_left")
    assert sorted((d["user"]["id"], d["role"], d["payload"]) for d in left) == [
        (GRACE, "kicked", None),
        (GRACE, "left", None),
    ]
    assert await telegram.events("channel.member_joined") == []


async def test_a_promotion_is_no_join(telegram: TelegramSetup) -> None:
    promoted = update("chat_member_joined")
    change = promoted["chat_member"]
    grace = change.pop("invite_link") and change["new_chat_member"]["user"]
    rights = update("my_chat_member_admin")["my_chat_member"]["new_chat_member"]
    change["old_chat_member"] = {"user": grace, "status": "member"}
    change["new_chat_member"] = {**rights, "user": grace}
    await telegram.deliver(promoted)
    assert await telegram.events("channel.member_joined") == []
    assert await telegram.events("channel.member_left") == []


async def test_our_bot_added_as_admin_and_removed(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("my_chat_member_admin"))
    await telegram.deliver(update("my_chat_member_admin"))
    await telegram.deliver(update("my_chat_member_removed"))
    [added] = await _data(telegram, "channel.bot_added")
    [removed] = await _data(telegram, "channel.bot_removed")
    assert (added["role"], added["group_id"], added["user"]["name"]) == (
        "administrator",
        GROUP,
        "Ada Lovelace",
    )
    assert (removed["role"], removed["group_id"]) == ("kicked", GROUP)


async def test_where_the_bot_is_admin_a_join_is_recorded_from_chat_member_only(
    telegram: TelegramSetup,
) -> None:
    """The service message arriving first must not take the join without its invite link."""
    await telegram.deliver(update("my_chat_member_admin"))
    await telegram.deliver(update("new_chat_member_grace"))
    await telegram.deliver(update("chat_member_joined"))
    [joined] = await _data(telegram, "channel.member_joined")
    assert joined["payload"] == "ref-ada"


async def test_a_chat_member_update_teaches_that_service_messages_are_copies(
    telegram: TelegramSetup,
) -> None:
    """The bot was made admin before Kith asked for `my_chat_member`: the first chat_member
    update proves it, and the service message of that join, arriving after, is no second."""
    await telegram.deliver(update("chat_member_joined"))
    await telegram.deliver(update("new_chat_member_grace"))
    assert len(await telegram.events("channel.member_joined")) == 1


async def test_where_the_bot_is_not_admin_service_messages_make_the_roster(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    await telegram.deliver(update("new_chat_member_grace"))
    await telegram.deliver(update("left_chat_member"))
    [joined] = await _data(telegram, "channel.member_joined")
    [left] = await _data(telegram, "channel.member_left")
    assert (joined["user"]["id"], joined["payload"]) == (GRACE, None)
    assert left["user"]["name"] == "Li Lei"
    assert bot_api.called("getChatMember") == [{"chat_id": int(GROUP), "user_id": 7000000001}]


async def test_a_bot_made_admin_before_kith_heard_is_asked_once(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    bot_api.bot_status[int(GROUP)] = "administrator"
    await telegram.deliver(update("new_chat_member_grace"))  # the copy first
    await telegram.deliver(update("chat_member_joined"))
    await telegram.deliver(update("left_chat_member"))  # Li's leave: its chat_member counts
    [joined] = await _data(telegram, "channel.member_joined")
    assert joined["payload"] == "ref-ada"
    assert await telegram.events("channel.member_left") == []
    assert len(bot_api.called("getChatMember")) == 1


async def test_when_telegram_cannot_say_the_service_message_counts(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    bot_api.fail_next("getChatMember", error(400, "Bad Request: chat not found"))
    await telegram.deliver(update("new_chat_member_grace"))
    assert len(await telegram.events("channel.member_joined")) == 1


async def test_a_demoted_bot_goes_back_to_service_messages(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("my_chat_member_admin"))
    demoted = update("my_chat_member_admin", update_id=815000038)
    change = demoted["my_chat_member"]
    change["date"] += 60
    change["old_chat_member"], change["new_chat_member"] = (
        change["new_chat_member"],
        {"user": change["new_chat_member"]["user"], "status": "member"},
    )
    await telegram.deliver(demoted)
    await telegram.deliver(update("my_chat_member_admin"))  # the older one, redelivered late
    await telegram.deliver(update("new_chat_member_grace"))
    assert len(await telegram.events("channel.member_joined")) == 1
    added = sorted(await _data(telegram, "channel.bot_added"), key=lambda d: d["occurred_at"])
    assert [d["role"] for d in added] == ["administrator", "member"]


async def test_a_migration_told_by_both_chats_is_one_event(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("migrate_to_chat_id"))
    await telegram.deliver(update("migrate_from_chat_id"))
    [migrated] = await _data(telegram, "channel.group_migrated")
    assert (migrated["group_id"], migrated["payload"]) == (OLD_GROUP, GROUP)
    assert await telegram.messages() == []


async def test_an_anonymous_admin_speaks_as_the_group_not_as_a_member(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("anonymous_admin"))
    [message] = await telegram.messages()
    assert message["external_user_id"] == GROUP  # not @GroupAnonymousBot, shared by all admins
    assert message["author"]["name"] == "Kettle Owners Club"
    assert message["group"]["admin"] is True
    assert message["group"]["automatic"] is False


async def test_a_channel_post_belongs_to_the_channel_community(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("channel_post"))
    [message] = await telegram.messages()
    assert message["text"] == "New kettles in stock!"
    assert message["group"]["id"] == CHANNEL
    assert message["group"]["kind"] == "channel"
    assert message["group"]["admin"] is True


async def test_a_linked_channel_forward_and_forwarded_spam(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("automatic_forward"))
    await telegram.deliver(update("forwarded_spam"))
    automatic, spam = sorted(await telegram.messages(), key=lambda m: m["channel_message_id"])
    assert automatic["external_user_id"] == CHANNEL  # not 777000, "Telegram"
    assert automatic["group"]["automatic"] is True
    assert automatic["group"]["admin"] is False
    assert automatic["group"]["forwarded"] is False
    assert spam["external_user_id"] == GRACE  # the member who forwarded it
    assert spam["group"]["forwarded"] is True
    assert spam["group"]["admin"] is spam["group"]["automatic"] is False
