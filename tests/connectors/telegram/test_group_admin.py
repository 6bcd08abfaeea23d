"""The Telegram channel's GroupAdmin: every call reaching the (fake) Bot API as documented."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kith.core.channel_records import get_channel
from kith.core.errors import DeliveryError
from kith.core.groups import GroupAdmin
from kith.core.models import Channel
from tests.connectors.telegram.conftest import TelegramSetup
from tests.connectors.telegram.fake_bot_api import FakeBotApi, error

GROUP = "-1001234567890"
GRACE = "424242005"
UNTIL = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


async def _admin(telegram: TelegramSetup) -> tuple[GroupAdmin, Channel]:
    channel = await get_channel(telegram.core, None, telegram.channel_id)
    kind = telegram.core.channels.get("telegram")
    assert kind is not None and kind.group_admin is not None
    return kind.group_admin, channel


async def test_a_message_is_deleted_by_its_kith_key_and_again_without_error(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    admin, channel = await _admin(telegram)
    await admin.delete_message(telegram.core, channel, GROUP, f"{GROUP}:305")
    await admin.delete_message(telegram.core, channel, GROUP, "305")  # retried: already gone
    assert bot_api.called("deleteMessage") == [
        {"chat_id": int(GROUP), "message_id": 305},
        {"chat_id": int(GROUP), "message_id": 305},
    ]
    assert bot_api.deleted == {(int(GROUP), 305)}


async def test_a_message_of_another_chat_is_refused_without_a_call(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    admin, channel = await _admin(telegram)
    with pytest.raises(DeliveryError) as raised:
        await admin.delete_message(telegram.core, channel, GROUP, "-100999:305")
    assert raised.value.retryable is False
    assert bot_api.called("deleteMessage") == []


async def test_restrict_until_a_time_then_lift(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    admin, channel = await _admin(telegram)
    await admin.restrict(telegram.core, channel, GROUP, GRACE, UNTIL)
    [muted] = bot_api.called("restrictChatMember")
    assert muted["user_id"] == int(GRACE)
    assert muted["until_date"] == int(UNTIL.timestamp())
    assert muted["permissions"]["can_send_messages"] is False
    assert not any(muted["permissions"].values())
    assert (int(GROUP), int(GRACE)) in bot_api.restricted
    await admin.unrestrict(telegram.core, channel, GROUP, GRACE)
    lifted = bot_api.called("restrictChatMember")[1]
    assert all(lifted["permissions"].values())
    assert "until_date" not in lifted
    assert bot_api.restricted == {}


async def test_ban_for_good_and_remove_as_ban_then_unban(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    admin, channel = await _admin(telegram)
    await admin.ban(telegram.core, channel, GROUP, GRACE, None)
    assert bot_api.called("banChatMember") == [{"chat_id": int(GROUP), "user_id": int(GRACE)}]
    assert bot_api.banned == {(int(GROUP), int(GRACE)): 0}
    await admin.remove(telegram.core, channel, GROUP, "424242003")
    assert [c.method for c in bot_api.calls][-2:] == ["banChatMember", "unbanChatMember"]
    assert bot_api.called("unbanChatMember") == [
        {"chat_id": int(GROUP), "user_id": 424242003, "only_if_banned": True}
    ]
    assert (int(GROUP), 424242003) not in bot_api.banned  # may join again
    await admin.ban(telegram.core, channel, GROUP, "424242003", UNTIL)
    assert bot_api.banned[(int(GROUP), 424242003)] == int(UNTIL.timestamp())
    await admin.unban(telegram.core, channel, GROUP, "424242003")
    assert bot_api.called("unbanChatMember")[-1] == {
        "chat_id": int(GROUP),
        "user_id": 424242003,
        "only_if_banned": True,
    }
    assert (int(GROUP), 424242003) not in bot_api.banned  # lifted: may join again


async def test_an_invite_link_is_named_limited_and_answered(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    admin, channel = await _admin(telegram)
    url = await admin.invite_link(telegram.core, channel, GROUP, "ref-ada", UNTIL, 50)
    assert url == "https://t.me/+KithInvite000001"
    assert bot_api.called("createChatInviteLink") == [
        {
            "chat_id": int(GROUP),
            "name": "ref-ada",
            "expire_date": int(UNTIL.timestamp()),
            "member_limit": 50,
        }
    ]
    open_link = await admin.invite_link(telegram.core, channel, GROUP, "open", None, None)
    assert open_link == "https://t.me/+KithInvite000002"
    assert bot_api.called("createChatInviteLink")[1] == {"chat_id": int(GROUP), "name": "open"}


@pytest.mark.parametrize(
    ("name", "limit"), [("x" * 33, None), ("ok", 0), ("ok", 100_000)], ids=["name", "0", "max"]
)
async def test_what_telegram_would_refuse_is_refused_before_calling(
    telegram: TelegramSetup, bot_api: FakeBotApi, name: str, limit: int | None
) -> None:
    admin, channel = await _admin(telegram)
    with pytest.raises(DeliveryError) as raised:
        await admin.invite_link(telegram.core, channel, GROUP, name, None, limit)
    assert raised.value.retryable is False
    assert bot_api.called("createChatInviteLink") == []


async def test_errors_map_like_the_senders(telegram: TelegramSetup, bot_api: FakeBotApi) -> None:
    admin, channel = await _admin(telegram)
    bot_api.fail_next(
        "banChatMember", error(429, "Too Many Requests: retry after 7", retry_after=7)
    )
    with pytest.raises(DeliveryError) as flood:
        await admin.ban(telegram.core, channel, GROUP, GRACE, None)
    assert flood.value.retryable is True
    assert flood.value.retry_after == 7
    bot_api.fail_next("restrictChatMember", error(400, "Bad Request: not enough rights"))
    with pytest.raises(DeliveryError) as rights:
        await admin.restrict(telegram.core, channel, GROUP, GRACE, None)
    assert rights.value.retryable is False
    assert "not enough rights" in str(rights.value)
    bot_api.fail_next("deleteMessage", error(400, "Bad Request: message can't be deleted"))
    with pytest.raises(DeliveryError) as undeletable:
        await admin.delete_message(telegram.core, channel, GROUP, f"{GROUP}:1")
    assert undeletable.value.retryable is False
    bot_api.fail_next("deleteMessage", error(502, "Bad Gateway"))
    with pytest.raises(DeliveryError) as down:
        await admin.delete_message(telegram.core, channel, GROUP, f"{GROUP}:1")
    assert down.value.retryable is True
    assert bot_api.banned == {}
