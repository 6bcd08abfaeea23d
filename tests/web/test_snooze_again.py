"""Regression (QA7 M2): a snoozed conversation snoozed again until another time kept its old
time and answered 200, and a time already past was accepted the same way. Now the new time
is stored and recorded, the wake-up timer moves with it (the old time wakes nothing), and a
past time is a 422 naming `snoozed_until`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from kith.core.clock import ManualClock, aware
from kith.core.context import Core
from kith.core.timers import TimerWorker, find_timers
from tests.api.conftest import ApiSetup, make_setup

HOUR = 3600.0


@pytest.fixture
async def api(core: Core, client: httpx.AsyncClient, workspace_id: str) -> ApiSetup:
    return await make_setup(core, client, workspace_id)


@pytest.fixture
async def conversation_id(api: ApiSetup) -> str:
    await api.say("u-1", "where is my parcel?")
    listed = (await api.http.get("/api/v1/conversations", headers=api.auth)).json()["items"]
    return str(listed[0]["id"])


def _at(clock: ManualClock, hours: float) -> str:
    return (clock.now() + timedelta(hours=hours)).isoformat()


async def _patch(api: ApiSetup, conversation_id: str, body: dict[str, Any]) -> httpx.Response:
    return await api.http.patch(
        f"/api/v1/conversations/{conversation_id}", json=body, headers=api.auth
    )


async def _stored(core: Core, conversation_id: str) -> tuple[str, datetime | None]:
    doc = await core.store.conversations.find_one({"_id": conversation_id})
    assert doc is not None
    until = doc.get("snoozed_until")
    return doc["status"], aware(until) if until else None


async def _status_events(core: Core, conversation_id: str) -> list[dict[str, Any]]:
    found = core.store.events.find(
        {"conversation_id": conversation_id, "type": "conversation.status_changed"}
    ).sort([("created_at", 1), ("_id", 1)])
    return [e["data"] for e in await found.to_list(None)]


async def _snooze(api: ApiSetup, conversation_id: str, until: str) -> None:
    answer = await _patch(api, conversation_id, {"status": "snoozed", "snoozed_until": until})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("with_status", [True, False], ids=["with-status", "time-only"])
async def test_snoozing_again_stores_the_new_time_and_records_it(
    api: ApiSetup, core: Core, clock: ManualClock, conversation_id: str, with_status: bool
) -> None:
    await _snooze(api, conversation_id, _at(clock, 24))
    later = clock.now() + timedelta(days=30)
    body: dict[str, Any] = {"snoozed_until": later.isoformat()}
    if with_status:
        body["status"] = "snoozed"

    answer = await _patch(api, conversation_id, body)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "snoozed"
    assert datetime.fromisoformat(answer.json()["snoozed_until"].replace("Z", "+00:00")) == later
    assert await _stored(core, conversation_id) == ("snoozed", later)
    events = await _status_events(core, conversation_id)
    assert [(e["from"], e["to"]) for e in events] == [("open", "snoozed"), ("snoozed", "snoozed")]
    assert datetime.fromisoformat(events[-1]["snoozed_until"]) == later

    # The same time again changes nothing and records nothing.
    again = await _patch(api, conversation_id, body)
    assert again.status_code == 200, again.text
    assert len(await _status_events(core, conversation_id)) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"status": "snoozed", "snoozed_until": "2020-01-01T00:00:00Z"},
        {"snoozed_until": "2020-01-01T00:00:00Z"},
        {"snoozed_until": "2020-01-01T00:00:00"},  # no zone: UTC, as stored
        {"status": "snoozed", "snoozed_until": "2026-01-01T00:00:00Z"},  # now is no later
    ],
)
async def test_a_past_time_on_a_snoozed_conversation_is_refused_naming_the_field(
    api: ApiSetup, core: Core, clock: ManualClock, conversation_id: str, body: dict[str, Any]
) -> None:
    await _snooze(api, conversation_id, _at(clock, 24))
    before = await _stored(core, conversation_id), await _status_events(core, conversation_id)

    answer = await _patch(api, conversation_id, body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "snoozed_until"
    assert (await _stored(core, conversation_id), await _status_events(core, conversation_id)) == (
        before
    )


@pytest.mark.parametrize(
    "body",
    [{"snoozed_until": "2027-01-01T00:00:00Z"}, {"status": "open", "snoozed_until": "2027-01-01"}],
)
async def test_a_snooze_time_for_a_conversation_not_snoozed_is_refused_not_dropped(
    api: ApiSetup, core: Core, conversation_id: str, body: dict[str, Any]
) -> None:
    answer = await _patch(api, conversation_id, body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "snoozed_until"
    assert await _stored(core, conversation_id) == ("open", None)


async def test_the_wake_up_moves_with_the_new_time_later_or_earlier(
    api: ApiSetup, core: Core, clock: ManualClock, conversation_id: str
) -> None:
    worker = TimerWorker(core)
    await _snooze(api, conversation_id, _at(clock, 24))
    await _snooze(api, conversation_id, _at(clock, 48))
    assert len(await find_timers(core, "snooze:")) == 1  # moved, not added

    clock.advance(30 * HOUR)  # past the first time: the old wake-up is gone
    await worker.run_once()
    assert (await _stored(core, conversation_id))[0] == "snoozed"

    await _snooze(api, conversation_id, _at(clock, 2))  # and now earlier than planned
    clock.advance(2 * HOUR)
    await worker.run_once()

    assert await _stored(core, conversation_id) == ("open", None)
    events = await _status_events(core, conversation_id)
    assert events[-1] == {"from": "snoozed", "to": "open", "woke": True}
    assert await find_timers(core, "snooze:") == []


async def test_a_wake_up_already_claimed_when_the_time_moves_does_not_wake_it_early(
    api: ApiSetup, core: Core, clock: ManualClock, conversation_id: str, second_process: Core
) -> None:
    """A process has claimed the due wake-up (its lease is in MongoDB) when an agent moves
    the time: the claimed run reopens nothing, and the new wake-up is kept, not settled."""
    await _snooze(api, conversation_id, _at(clock, 24))
    clock.advance(24 * HOUR)
    slow = TimerWorker(second_process, owner="slow")
    claimed = await slow.claim()
    assert claimed is not None

    await _snooze(api, conversation_id, _at(clock, 24))
    await slow.fire(claimed)

    assert (await _stored(core, conversation_id))[0] == "snoozed"
    [kept] = await find_timers(core, "snooze:")
    assert aware(kept.fire_at) == clock.now() + timedelta(hours=24)
    clock.advance(24 * HOUR)
    await TimerWorker(core).run_once()
    assert await _stored(core, conversation_id) == ("open", None)


async def test_a_conversation_awake_before_its_time_is_left_alone_by_the_wake_up(
    api: ApiSetup, core: Core, clock: ManualClock, conversation_id: str
) -> None:
    """The customer wrote (reopened) and an agent resolved it: the old wake-up must not
    reopen it or record anything."""
    await _snooze(api, conversation_id, _at(clock, 24))
    await api.say("u-1", "any news?")
    assert (await _stored(core, conversation_id))[0] == "open"
    resolved = await _patch(api, conversation_id, {"status": "resolved"})
    assert resolved.status_code == 200, resolved.text
    count = len(await _status_events(core, conversation_id))

    clock.advance(25 * HOUR)
    await TimerWorker(core).run_once()

    assert await _stored(core, conversation_id) == ("resolved", None)
    assert len(await _status_events(core, conversation_id)) == count


async def test_leaving_snoozed_drops_the_wake_up(
    api: ApiSetup, core: Core, clock: ManualClock, conversation_id: str
) -> None:
    await _snooze(api, conversation_id, _at(clock, 24))
    assert len(await find_timers(core, "snooze:")) == 1

    answer = await _patch(api, conversation_id, {"status": "open"})

    assert answer.status_code == 200, answer.text
    assert await find_timers(core, "snooze:") == []
