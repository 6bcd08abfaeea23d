"""Block Kit button presses (interactivity) arrive as messages carrying the button's payload."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from kith.core.dead_letters import list_dead_letters
from tests.connectors.slack.conftest import SlackSetup, fixture


@pytest.mark.parametrize("path", ["/interactive", ""])
async def test_a_button_press_is_a_message_with_its_payload(slack: SlackSetup, path: str) -> None:
    await slack.event("message_channels_top")
    answer = await slack.interaction(fixture("block_actions"), path=path)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "stored"
    top, press = await slack.inbound()
    assert press["payload"] == "helpful_yes"
    assert press["text"] == "Yes"
    assert press["conversation_id"] == top["conversation_id"]  # the thread it was pressed in
    assert press["reply_to"] == "C0LAN2Q65:1700000150.000250"


async def test_a_redelivered_press_is_stored_once(slack: SlackSetup) -> None:
    await slack.interaction(fixture("block_actions"))
    again = await slack.interaction(fixture("block_actions"))
    assert again.json()["outcome"] == "duplicate"
    assert len(await slack.inbound()) == 1


async def test_url_buttons_and_other_interactions_are_acknowledged(slack: SlackSetup) -> None:
    press = fixture("block_actions")
    press["actions"][0] = {**press["actions"][0], "url": "https://example.com"}
    del press["actions"][0]["value"]
    assert (await slack.interaction(press)).json()["outcome"] == "ignored"
    submission = {"type": "view_submission", "user": {"id": "U2147483697"}, "view": {}}
    assert (await slack.interaction(submission)).json()["outcome"] == "ignored"
    assert await slack.inbound() == []


async def test_a_forged_press_is_refused(slack: SlackSetup) -> None:
    body = urlencode({"payload": json.dumps(fixture("block_actions"))}).encode()
    answer = await slack.send_raw(
        body,
        content_type="application/x-www-form-urlencoded",
        path="/interactive",
        secret="someone-else",
    )
    assert answer.status_code == 401
    assert await slack.inbound() == []


@pytest.mark.parametrize(
    "body", [b"nothing=here", b"payload=%7Bnot+json", urlencode({"payload": "[]"}).encode()]
)
async def test_signed_malformed_interactions_are_kept_as_dead_letters(
    slack: SlackSetup, body: bytes
) -> None:
    answer = await slack.send_raw(
        body, content_type="application/x-www-form-urlencoded", path="/interactive"
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "dead_letter"
    kept = await list_dead_letters(slack.core, slack.channel.workspace_id)
    assert [(d.field, d.content_type) for d in kept] == [
        ("payload", "application/x-www-form-urlencoded")
    ]
