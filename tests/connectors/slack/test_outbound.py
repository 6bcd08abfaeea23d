"""Replies through the REST API and the outbox reach Slack's chat.postMessage as Slack
expects them, and Slack's answers (429, errors) drive the outbox's retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kith.core.auth import create_api_token
from kith.core.outbox import OutboxWorker
from tests.connectors.slack.conftest import BOT_TOKEN, SlackSetup

THREAD = "C0LAN2Q65:1700000000.000100"


async def _reply(slack: SlackSetup, fixture_name: str, **content: Any) -> str:
    """A customer writes on Slack, an agent answers through the REST API."""
    assert (await slack.event(fixture_name)).status_code == 200
    [inbound] = await slack.inbound()
    token = await create_api_token(slack.core, slack.channel.workspace_id, "tests")
    answer = await slack.http.post(
        f"/api/v1/conversations/{inbound['conversation_id']}/messages",
        json=content,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _delivery(slack: SlackSetup, message_id: str) -> dict[str, Any]:
    doc = await slack.core.store.messages.find_one({"_id": message_id})
    assert doc is not None
    return {**doc["delivery"], "channel_message_id": doc.get("channel_message_id")}


async def test_a_reply_goes_into_the_thread_with_block_kit_buttons(slack: SlackSetup) -> None:
    message_id = await _reply(
        slack,
        "message_channels_thread",
        text="Sorry about that! Was it <= 2 days late & damaged?",
        buttons=[
            {"label": "Yes", "payload": "late_yes"},
            {"label": "Track it", "url": "https://track.example.com/1042"},
        ],
    )
    assert await OutboxWorker(slack.core).run_once() == 1
    [call] = slack.api.calls
    assert call.method == "chat.postMessage"
    assert call.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert call.body["channel"] == "C0LAN2Q65"
    assert call.body["thread_ts"] == "1700000000.000100"
    assert call.body["text"] == "Sorry about that! Was it &lt;= 2 days late &amp; damaged?"
    section, actions = call.body["blocks"]
    assert section["text"] == {"type": "mrkdwn", "text": call.body["text"]}
    yes, track = actions["elements"]
    assert actions["type"] == "actions"
    assert yes["type"] == "button" and yes["value"] == "late_yes"
    assert yes["text"]["text"] == "Yes"
    assert track["url"] == "https://track.example.com/1042" and "value" not in track
    delivery = await _delivery(slack, message_id)
    assert delivery["status"] == "sent"
    assert delivery["channel_message_id"] == "C0LAN2Q65:1767225600.000001"


async def test_a_direct_message_reply_goes_to_the_dm_without_a_thread(slack: SlackSetup) -> None:
    await _reply(
        slack,
        "message_im",
        text="Here is your invoice.",
        attachments=[
            {"kind": "image", "name": "parcel.png", "url": "https://cdn.example.com/p.png"},
            {"kind": "file", "name": "invoice.pdf", "url": "https://cdn.example.com/i.pdf"},
        ],
    )
    await OutboxWorker(slack.core).run_once()
    [call] = slack.api.calls
    assert call.body["channel"] == "D024BE91L"
    assert "thread_ts" not in call.body
    section, image = call.body["blocks"]
    assert section["text"]["text"] == (
        "Here is your invoice.\n<https://cdn.example.com/i.pdf|invoice.pdf>"
    )
    assert image == {
        "type": "image",
        "image_url": "https://cdn.example.com/p.png",
        "alt_text": "parcel.png",
    }


async def test_slacks_429_reschedules_after_retry_after(slack: SlackSetup) -> None:
    slack.api.answer_next(429, {"ok": False, "error": "ratelimited"}, Retry_After="30")
    message_id = await _reply(slack, "message_channels_thread", text="On it.")
    await OutboxWorker(slack.core).run_once()
    delivery = await _delivery(slack, message_id)
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["next_attempt_at"] == slack.clock.now() + timedelta(seconds=30)
    slack.clock.advance(29)
    assert await OutboxWorker(slack.core).run_once() == 0
    slack.clock.advance(1)
    assert await OutboxWorker(slack.core).run_once() == 1
    assert (await _delivery(slack, message_id))["status"] == "sent"
    assert len(slack.api.calls) == 2


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth"])
async def test_a_permanent_slack_error_fails_without_retry(slack: SlackSetup, error: str) -> None:
    slack.api.answer_next(200, {"ok": False, "error": error})
    message_id = await _reply(slack, "message_channels_thread", text="On it.")
    await OutboxWorker(slack.core).run_once()
    delivery = await _delivery(slack, message_id)
    assert delivery["status"] == "failed"
    assert error in delivery["error"]
    assert len(slack.api.calls) == 1


async def test_a_slack_outage_is_retried(slack: SlackSetup) -> None:
    slack.api.answer_next(503, {"ok": False, "error": "service_unavailable"})
    message_id = await _reply(slack, "message_channels_thread", text="On it.")
    await OutboxWorker(slack.core).run_once()
    delivery = await _delivery(slack, message_id)
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    slack.clock.advance(60)
    await OutboxWorker(slack.core).run_once()
    assert (await _delivery(slack, message_id))["status"] == "sent"


async def test_one_message_per_second_per_slack_channel(slack: SlackSetup) -> None:
    first = await _reply(slack, "message_channels_thread", text="One.")
    token = await create_api_token(slack.core, slack.channel.workspace_id, "tests-2")
    [inbound] = await slack.inbound()
    second = (
        await slack.http.post(
            f"/api/v1/conversations/{inbound['conversation_id']}/messages",
            json={"text": "Two."},
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()["id"]
    await OutboxWorker(slack.core).run_once()
    assert [c.body["text"] for c in slack.api.calls] == ["One."]
    assert (await _delivery(slack, first))["status"] == "sent"
    deferred = await _delivery(slack, second)
    assert deferred["status"] == "pending" and deferred["attempts"] == 0  # not a failure
    slack.clock.advance(1)
    await OutboxWorker(slack.core).run_once()
    assert [c.body["text"] for c in slack.api.calls] == ["One.", "Two."]


async def test_slack_secrets_are_write_only(slack: SlackSetup) -> None:
    token = await create_api_token(slack.core, slack.channel.workspace_id, "tests")
    auth = {"Authorization": f"Bearer {token}"}
    config = {"bot_token": "xoxb-1-2-abcdefghij", "signing_secret": "0123456789abcdef"}
    created = await slack.http.post(
        "/api/v1/channels", json={"type": "slack", "name": "Ops", "config": config}, headers=auth
    )
    assert created.status_code == 201, created.text
    assert created.json()["config"] == {}
    assert created.json()["webhook_path"] == f"/webhooks/slack/{created.json()['id']}"
    shown = await slack.http.get(f"/api/v1/channels/{slack.channel.id}", headers=auth)
    assert set(shown.json()["config"]) == {"api_base"}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"bot_token": "xoxp-user-token-1", "signing_secret": "0123456789abcdef"}, "bot_token"),
        ({"bot_token": "xoxb-1-2-abcdefghij"}, "signing_secret"),
        ({"bot_token": "xoxb-1-2-abcdefghij", "signing_secret": "0123456789", "x": 1}, "x"),
    ],
)
async def test_a_bad_slack_config_is_refused(
    slack: SlackSetup, config: dict[str, Any], field: str
) -> None:
    token = await create_api_token(slack.core, slack.channel.workspace_id, "tests")
    answer = await slack.http.post(
        "/api/v1/channels",
        json={"type": "slack", "name": "Ops", "config": config},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == f"config.{field}"
