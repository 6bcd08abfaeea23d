"""The Slack channel's GroupAdmin at the fake Web API: what Slack can do, and what it cannot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kith.core.errors import DeliveryError
from kith.core.groups import GroupAdmin, Unsupported
from tests.connectors.slack.conftest import BOT_TOKEN, SlackSetup

CHANNEL = "C123ABC456"
TS = "1700000000.000100"


def _admin(slack: SlackSetup) -> GroupAdmin:
    kind = slack.core.channels.get("slack")
    assert kind is not None and kind.group_admin is not None
    return kind.group_admin


async def test_delete_a_message_by_its_kith_id_or_ts(slack: SlackSetup) -> None:
    admin = _admin(slack)
    await admin.delete_message(slack.core, slack.channel, CHANNEL, f"{CHANNEL}:{TS}")
    slack.api.answer_next(200, {"ok": False, "error": "message_not_found"})  # deleted before
    await admin.delete_message(slack.core, slack.channel, CHANNEL, TS)
    calls = [c for c in slack.api.calls if c.method == "chat.delete"]
    assert [c.body for c in calls] == [{"channel": CHANNEL, "ts": TS}] * 2
    assert calls[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"


async def test_a_members_message_needs_a_user_token(slack: SlackSetup) -> None:
    slack.api.answer_next(200, {"ok": False, "error": "cant_delete_message"})
    with pytest.raises(Unsupported, match="user token"):
        await _admin(slack).delete_message(slack.core, slack.channel, CHANNEL, TS)


async def test_remove_kicks_from_the_channel(slack: SlackSetup) -> None:
    admin = _admin(slack)
    await admin.remove(slack.core, slack.channel, CHANNEL, "W123ABC456")
    slack.api.answer_next(200, {"ok": False, "error": "not_in_channel"})  # gone already
    await admin.remove(slack.core, slack.channel, CHANNEL, "W123ABC456")
    kicks = [c.body for c in slack.api.calls if c.method == "conversations.kick"]
    assert kicks == [{"channel": CHANNEL, "user": "W123ABC456"}] * 2


async def test_refusals_and_outages_map_like_the_senders(slack: SlackSetup) -> None:
    admin = _admin(slack)
    slack.api.answer_next(200, {"ok": False, "error": "missing_scope"})
    with pytest.raises(DeliveryError) as refused:
        await admin.remove(slack.core, slack.channel, CHANNEL, "W123ABC456")
    assert refused.value.retryable is False
    assert "missing_scope" in str(refused.value)
    slack.api.answer_next(429, {"ok": False, "error": "ratelimited"}, Retry_After="30")
    with pytest.raises(DeliveryError) as limited:
        await admin.delete_message(slack.core, slack.channel, CHANNEL, TS)
    assert (limited.value.retryable, limited.value.retry_after) == (True, 30.0)


async def test_what_slack_has_no_call_for_is_unsupported_without_a_call(
    slack: SlackSetup,
) -> None:
    admin = _admin(slack)
    until = datetime(2100, 1, 2, tzinfo=UTC)
    with pytest.raises(Unsupported):
        await admin.restrict(slack.core, slack.channel, CHANNEL, "W1", until)
    with pytest.raises(Unsupported):
        await admin.unrestrict(slack.core, slack.channel, CHANNEL, "W1")
    with pytest.raises(Unsupported):
        await admin.ban(slack.core, slack.channel, CHANNEL, "W1", None)
    with pytest.raises(Unsupported):
        await admin.unban(slack.core, slack.channel, CHANNEL, "W1")
    with pytest.raises(Unsupported):
        await admin.invite_link(slack.core, slack.channel, CHANNEL, "ref", None, None)
    assert slack.api.calls == []


async def test_a_message_of_another_channel_is_refused(slack: SlackSetup) -> None:
    with pytest.raises(DeliveryError):
        await _admin(slack).delete_message(slack.core, slack.channel, CHANNEL, f"C999:{TS}")
    assert slack.api.calls == []
