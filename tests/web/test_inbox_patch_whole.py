"""Regression: the inbox's conversation `PATCH` is all or nothing. Handing a conversation to a
team while assigning it to nobody known used to keep the team and answer 422, with a
`conversation.team_changed` event for the refused change."""

from __future__ import annotations

from typing import Any

from kith.core.clock import ManualClock
from kith.core.context import Core
from tests.web.conftest import Cast


async def _state(core: Core, conversation_id: str) -> tuple[dict[str, Any], list[str]]:
    doc = await core.store.conversations.find_one({"_id": conversation_id})
    assert doc is not None
    kept = {k: doc.get(k) for k in ("team_id", "assignee_id", "status", "snoozed_until")}
    events = await core.store.events.find({"conversation_id": conversation_id}).to_list(None)
    return kept, sorted(e["_id"] for e in events)


async def test_a_refused_change_leaves_the_conversation_and_its_events(
    cast: Cast, browser, core: Core, clock: ManualClock
) -> None:
    admin = await browser("admin")
    shop = cast.conversations["shop"]
    support = cast.users["support"].id
    past = clock.now().replace(year=2020).isoformat()
    before = await _state(core, shop)
    for body, field in (
        ({"team_id": support, "assignee_id": "no-such-user"}, "assignee_id"),
        ({"team_id": support, "status": "snoozed", "snoozed_until": past}, "snoozed_until"),
        ({"team_id": "no-such-team", "assignee_id": cast.users["bob"].id}, "team_id"),
    ):
        answer = await admin.api("PATCH", f"/conversations/{shop}", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == field, (body, answer.text)
        assert await _state(core, shop) == before, body

    good = {"team_id": support, "assignee_id": cast.users["bob"].id, "status": "resolved"}
    answer = await admin.api("PATCH", f"/conversations/{shop}", json=good)
    assert answer.status_code == 200, answer.text
    assert {k: answer.json()[k] for k in good} == good
    # Bob (Support) now sees the Sales conversation his team was handed.
    bob = await browser("bob")
    assert (await bob.api("GET", f"/conversations/{shop}")).status_code == 200
    events = await core.store.events.find(
        {"conversation_id": shop, "_id": {"$nin": before[1]}}
    ).to_list(None)
    assert sorted(e["type"] for e in events) == [
        "conversation.assigned",
        "conversation.status_changed",
        "conversation.team_changed",
    ]
