"""Payloads shaped as slack-bolt's own test fixtures: accepted, and handled where they mean
something (an edit), ignored where Kith has no use for them (a legacy join message)."""

from __future__ import annotations

from kith.core.dead_letters import list_dead_letters
from tests.connectors.slack.conftest import SlackSetup, fixture


async def test_an_edit_naming_its_message_only_in_previous_message_is_applied(
    slack: SlackSetup,
) -> None:
    original = fixture("message_im")
    original["event"] |= {"ts": "1355517523.000005", "text": "Hello hello can you hear me?"}
    assert (await slack.event(original)).json()["outcome"] == "stored"
    answer = await slack.event("message_changed_without_ts")
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "edited"
    [message] = await slack.inbound()
    assert message["text"] == "Hello hello, can you hear me now?"


async def test_an_edit_of_an_unknown_message_is_acknowledged(slack: SlackSetup) -> None:
    answer = await slack.event("message_changed_without_ts")
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
    assert await list_dead_letters(slack.core, slack.channel.workspace_id) == []


async def test_a_legacy_channel_join_message_without_event_id_is_ignored(
    slack: SlackSetup,
) -> None:
    """Slack also sends `member_joined_channel` for the same join: that one is recorded."""
    answer = await slack.event("message_channel_join")
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
    assert await slack.inbound() == []
    assert await list_dead_letters(slack.core, slack.channel.workspace_id) == []


async def test_a_membership_event_without_event_id_is_keyed_by_its_event_ts(
    slack: SlackSetup,
) -> None:
    joined = fixture("member_joined_channel")
    del joined["event_id"]
    first = await slack.event(joined)
    again = await slack.event(joined)
    assert [first.json()["outcome"], again.json()["outcome"]] == ["event", "duplicate"]
