"""Slack's `ts` is kept on the stored message as the platform's send time (`sent_at`), beside
Kith's arrival (`created_at`): community moderation counts its windows by it."""

from __future__ import annotations

from datetime import UTC, datetime

from kith.core.clock import aware
from tests.connectors.slack.conftest import SlackSetup


async def test_slack_keeps_the_message_ts(slack: SlackSetup) -> None:
    slack.clock.advance(3600)  # delivered an hour after it was sent
    assert (await slack.event("message_im")).status_code == 200
    [message] = await slack.inbound()
    # "1355517523.000005": stored to the millisecond, as every BSON date is
    assert aware(message["sent_at"]) == datetime.fromtimestamp(1355517523, UTC)
    assert aware(message["created_at"]) == slack.clock.now()
