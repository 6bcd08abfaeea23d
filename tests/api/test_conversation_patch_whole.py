"""Regression: `PATCH /api/v1/conversations/{id}` is all or nothing. A good `team_id` with an
unknown `assignee_id` (or a snooze in the past) used to keep the team change and answer 422:
half written, with a `conversation.team_changed` event for a change the answer refused."""

from __future__ import annotations

from typing import Any

import pytest

from kith.core.auth import create_user
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.teams import create_team
from kith.core.workspaces import create_workspace
from tests.api.conftest import ApiSetup

PASSWORD = "correct horse battery staple"


async def _state(core: Core, conversation_id: str) -> tuple[dict[str, Any], list[str]]:
    doc = await core.store.conversations.find_one({"_id": conversation_id})
    assert doc is not None
    kept = {k: doc.get(k) for k in ("team_id", "assignee_id", "status", "snoozed_until")}
    events = await core.store.events.find({"conversation_id": conversation_id}).to_list(None)
    return kept, sorted(e["_id"] for e in events)


@pytest.fixture
async def conversation_id(api: ApiSetup) -> str:
    await api.say("u-1", "hi")
    listed = (await api.http.get("/api/v1/conversations", headers=api.auth)).json()["items"]
    return str(listed[0]["id"])


async def test_a_refused_patch_changes_nothing_and_records_nothing(
    api: ApiSetup, core: Core, workspace_id: str, conversation_id: str, clock: ManualClock
) -> None:
    team = await create_team(core, workspace_id, "Billing")
    agent = await create_user(core, workspace_id, "ann@kith.test", PASSWORD, name="Ann")
    elsewhere = await create_workspace(core, "Other Co")
    stranger = await create_user(core, elsewhere.id, "sam@kith.test", PASSWORD, name="Sam")
    past = clock.now().replace(year=2020).isoformat()
    url = f"/api/v1/conversations/{conversation_id}"
    before = await _state(core, conversation_id)
    for body, field in (
        ({"team_id": team.id, "assignee_id": "no-such-user"}, "assignee_id"),
        ({"team_id": team.id, "assignee_id": stranger.id}, "assignee_id"),
        ({"team_id": team.id, "status": "snoozed", "snoozed_until": past}, "snoozed_until"),
        ({"team_id": team.id, "status": "snoozed"}, "snoozed_until"),
        ({"team_id": "no-such-team", "assignee_id": agent.id, "status": "resolved"}, "team_id"),
        ({"assignee_id": agent.id, "team_id": team.id, "status": "asleep"}, "status"),
    ):
        answer = await api.http.patch(url, json=body, headers=api.auth)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == field, (body, answer.text)
        assert await _state(core, conversation_id) == before, body

    good = {"team_id": team.id, "assignee_id": agent.id, "status": "pending"}
    answer = await api.http.patch(url, json=good, headers=api.auth)
    assert answer.status_code == 200, answer.text
    assert {k: answer.json()[k] for k in good} == good
    stored, _ = await _state(core, conversation_id)
    assert {k: stored[k] for k in good} == good
    events = await core.store.events.find(
        {"conversation_id": conversation_id, "_id": {"$nin": before[1]}}
    ).to_list(None)
    assert sorted(e["type"] for e in events) == [
        "conversation.assigned",
        "conversation.status_changed",
        "conversation.team_changed",
    ]
