"""A Slack channel community is welcomed too: `member_joined_channel` in, a welcome posted
on the channel's conversation (Slack has no restriction: rules are asked without one)."""

from __future__ import annotations

from kith.communities import actions
from kith.communities.models import CommunityPatch
from kith.communities.settings import Welcome
from kith.communities.store import community_id
from kith.core.clock import ManualClock
from kith.core.models import Author, AuthorKind
from tests.communities.welcome_support import posted, run_due
from tests.connectors.slack.conftest import SlackSetup, fixture, slack, slack_api

__all__ = ["slack", "slack_api"]


def _joined(user: str, event_id: str, at: int) -> dict[str, object]:
    payload = fixture("member_joined_channel")
    payload["event"] = {**payload["event"], "user": user}
    return {**payload, "event_id": event_id, "event_time": at}


async def test_a_member_joining_a_slack_channel_is_welcomed_once(
    slack: SlackSetup, clock: ManualClock
) -> None:
    first = await slack.event(_joined("W0FIRST", "Ev1", 1700000300))
    assert first.status_code == 200, first.text
    await run_due(slack.core)
    cid = community_id(slack.channel.id, "C123ABC456")
    patch = CommunityPatch(welcome=Welcome(enabled=True, texts={"en": "Welcome aboard!"}))
    manager = Author(kind=AuthorKind.agent, name="manager")
    group = await actions.update(slack.core, slack.channel.workspace_id, cid, patch, manager)
    now = int(clock.now().timestamp())  # a join learnt of a day late gets no welcome
    await slack.event(_joined("W0SECOND", "Ev2", now))
    await slack.event(_joined("W0SECOND", "Ev2", now))  # Slack retries
    await run_due(slack.core)
    clock.advance(10)
    await run_due(slack.core)
    [welcome] = await posted(slack.core, group.conversation_id)
    assert welcome["text"] == "Welcome aboard!"
    assert welcome["channel_id"] == slack.channel.id
