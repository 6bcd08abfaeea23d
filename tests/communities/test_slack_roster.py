"""A Slack channel as a community: the bot's own joins, members joining, speaking, leaving."""

from __future__ import annotations

from typing import Any

from kith.core.auth import create_api_token
from tests.connectors.slack.conftest import SlackSetup, clock, fixture, slack, slack_api
from tests.support.consumers import drain

__all__ = ["clock", "slack", "slack_api"]

CHANNEL = "C123ABC456"
BOT = "U0LAN0Z89"


async def _feed(slack: SlackSetup, *payloads: dict[str, Any]) -> None:
    for payload in payloads:
        answer = await slack.event(payload)
        assert answer.status_code == 200, answer.text
        await drain(slack.core)


def _said_in_channel(ts: str) -> dict[str, Any]:
    said = fixture("message_channels_top")
    said["event"].update(channel=CHANNEL, ts=ts, event_ts=ts)
    said["event_id"] = f"Ev{ts.replace('.', '')}"
    return said


def _bot(name: str) -> dict[str, Any]:
    payload = fixture(name)
    payload["event"]["user"] = BOT
    payload["event_id"] += "b"
    return payload


async def _communities(slack: SlackSetup) -> list[dict[str, Any]]:
    token = await create_api_token(slack.core, slack.channel.workspace_id, "tests")
    answer = await slack.http.get(
        "/api/v1/communities", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_a_slack_channel_keeps_a_roster_from_joins_leaves_and_speakers(
    slack: SlackSetup,
) -> None:
    await _feed(slack, _bot("member_joined_channel"), fixture("member_joined_channel"))
    await _feed(slack, fixture("member_joined_channel"))  # Slack's retry
    await _feed(slack, _said_in_channel("1700000500.000100"), fixture("message_im"))
    [community] = await _communities(slack)
    assert community["platform_chat_id"] == CHANNEL
    assert (community["kind"], community["bot_status"]) == ("slack_channel", "member")
    assert community["member_count"] == 2  # W123ABC456 joined, U2147483697 spoke
    await _feed(slack, fixture("member_left_channel"))
    [community] = await _communities(slack)
    assert community["member_count"] == 1


async def test_once_the_bot_left_the_channel_nothing_changes(slack: SlackSetup) -> None:
    await _feed(slack, _bot("member_joined_channel"), _bot("member_left_channel"))
    await _feed(slack, fixture("member_joined_channel"), _said_in_channel("1700000600.000100"))
    [community] = await _communities(slack)
    assert community["bot_status"] == "left"
    assert community["member_count"] == 0
