"""A Slack channel community gets community broadcasts: one top-level `chat.postMessage`
into the channel (not a thread reply), at the fake Slack Web API."""

from __future__ import annotations

import pytest

from kith.broadcasts.feature import feature as broadcasts_feature
from kith.broadcasts.worker import BroadcastWorker
from kith.communities.store import community_id
from kith.core.auth import create_api_token
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.outbox import OutboxWorker
from tests.communities.welcome_support import run_due
from tests.connectors.slack.conftest import SlackSetup, fixture, slack, slack_api

__all__ = ["slack", "slack_api"]
CHANNEL = "C123ABC456"  # the fixture's channel


@pytest.fixture
async def core(core: Core) -> Core:
    install(core, [broadcasts_feature(core)])
    await core.start()
    return core


async def test_a_slack_channel_community_gets_one_top_level_post(
    slack: SlackSetup, clock: ManualClock
) -> None:
    joined = fixture("member_joined_channel")
    joined = {**joined, "event_time": int(clock.now().timestamp())}
    assert (await slack.event(joined)).status_code == 200
    await run_due(slack.core)
    cid = community_id(slack.channel.id, CHANNEL)
    token = await create_api_token(slack.core, slack.channel.workspace_id, "tests")
    auth = {"Authorization": f"Bearer {token}"}
    body = {"name": "Release", "community_ids": [cid], "message": {"text": {"en": "v2 is out!"}}}
    made = await slack.http.post("/api/v1/broadcasts", json=body, headers=auth)
    assert made.status_code == 201, made.text
    scheduled = await slack.http.post(
        f"/api/v1/broadcasts/{made.json()['id']}/schedule", headers=auth
    )
    assert scheduled.status_code == 200, scheduled.text
    for _ in range(3):
        await BroadcastWorker(slack.core).run_once()
        await OutboxWorker(slack.core).run_once()
        clock.advance(1)
    posts = [c.body for c in slack.api.calls if c.method == "chat.postMessage"]
    assert len(posts) == 1, posts  # the channel's conversation opened for it (joins only)
    assert posts[0]["channel"] == CHANNEL
    assert not posts[0].get("thread_ts")
    assert posts[0]["text"] == "v2 is out!"
