"""A Slack channel community gets its channel's name (conversations.info through slack_sdk,
at the fake Web API) and follows `channel_rename` / `group_rename` events."""

from __future__ import annotations

import json
from typing import Any

from kith.core.auth import create_api_token
from kith.core.dead_letters import list_dead_letters
from tests.connectors.slack.conftest import FIXTURES, SlackSetup, clock, fixture, slack, slack_api
from tests.support.consumers import drain

__all__ = ["clock", "slack", "slack_api"]

CHANNEL = "C123ABC456"
BOT = "U0LAN0Z89"


def info_answer() -> dict[str, Any]:
    """conversations.info's answer as Slack documents it."""
    data: dict[str, Any] = json.loads((FIXTURES / "conversations_info.json").read_text())
    return data


async def feed(slack: SlackSetup, *payloads: dict[str, Any]) -> None:
    for payload in payloads:
        answer = await slack.event(payload)
        assert answer.status_code == 200, answer.text
        await drain(slack.core)


def bot_joined() -> dict[str, Any]:
    payload = fixture("member_joined_channel")
    payload["event"]["user"] = BOT
    payload["event_id"] += "b"
    return payload


def said(ts: str) -> dict[str, Any]:
    payload = fixture("message_channels_top")
    payload["event"].update(channel=CHANNEL, ts=ts, event_ts=ts)
    payload["event_id"] = f"Ev{ts.replace('.', '')}"
    return payload


def renamed(name: str, kind: str = "channel_rename", event_id: str = "Ev0PV52K77") -> Any:
    payload = fixture("channel_rename")
    payload["event"]["type"] = kind
    payload["event"]["channel"]["name"] = name
    payload["event_id"] = event_id
    return payload


def lookups(slack: SlackSetup) -> list[dict[str, Any]]:
    return [c.body for c in slack.api.calls if c.method == "conversations.info"]


async def title(slack: SlackSetup) -> str:
    token = await create_api_token(slack.core, slack.channel.workspace_id, "tests")
    answer = await slack.http.get(
        "/api/v1/communities", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    [community] = answer.json()["items"]
    return str(community["title"])


async def test_a_new_slack_community_is_named_after_its_channel(slack: SlackSetup) -> None:
    slack.api.answer_next(200, info_answer())
    await feed(slack, bot_joined())
    assert await title(slack) == "kettle-owners"
    assert lookups(slack) == [{"channel": CHANNEL}]
    await feed(slack, said("1700000500.000100"), fixture("member_joined_channel"))
    assert len(lookups(slack)) == 1  # named once: no lookup per message


async def test_renames_are_followed_once_each(slack: SlackSetup) -> None:
    slack.api.answer_next(200, info_answer())
    await feed(slack, bot_joined())
    await feed(slack, renamed("kettle-owners-club"), renamed("kettle-owners-club"))
    assert await title(slack) == "kettle-owners-club"
    events = await slack.core.store.events.find({"type": "community.renamed"}).to_list(None)
    titles = {e["data"]["previous"]: e["data"]["title"] for e in events}
    assert titles == {None: "kettle-owners", "kettle-owners": "kettle-owners-club"}
    await feed(slack, renamed("kettles-private", "group_rename", "Ev0PV52K78"))
    assert await title(slack) == "kettles-private"
    assert len(lookups(slack)) == 1


async def test_a_channel_first_seen_through_its_rename_needs_no_lookup(
    slack: SlackSetup,
) -> None:
    await feed(slack, renamed("kettle-owners-club"))
    assert await title(slack) == "kettle-owners-club"
    assert lookups(slack) == []


async def test_a_failed_lookup_waits_before_asking_again(slack: SlackSetup) -> None:
    """Without `channels:read` Slack answers `missing_scope`: the community stays untitled
    and is not looked up on every message, only again an hour later."""
    slack.api.answer_next(200, {"ok": False, "error": "missing_scope"})
    await feed(slack, bot_joined(), said("1700000500.000100"))
    assert await title(slack) == ""
    assert len(lookups(slack)) == 1
    slack.clock.advance(61 * 60)
    slack.api.answer_next(200, info_answer())
    await feed(slack, said("1700000600.000100"))
    assert await title(slack) == "kettle-owners"
    assert len(lookups(slack)) == 2


async def test_a_rename_without_a_name_is_refused(slack: SlackSetup) -> None:
    payload = renamed("kettle-owners-club")
    del payload["event"]["channel"]["name"]
    answer = await slack.event(payload)
    assert answer.status_code == 200  # a 4xx makes Slack retry: kept as a dead letter
    assert answer.json()["outcome"] == "dead_letter"
    [kept] = await list_dead_letters(slack.core, slack.channel.workspace_id)
    assert kept.field == "event.channel.name"
