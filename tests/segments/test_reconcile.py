"""Reconciliation (both lanes): it finds what events missed (a row put in or taken out behind
the membership's back, time passing a `within_days` edge), fixes it with entered/left events
and reports what it fixed; the workspace's durable timer runs it."""

from __future__ import annotations

import logging

import httpx
import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.timers import TimerWorker
from kith.segments.membership import member_id
from tests.segments.conftest import VIP, customer, members, moves, segment, size
from tests.support.cast import api_token
from tests.support.consumers import drain


async def test_on_demand_fixes_rows_behind_its_back_and_reports(
    core: Core, client: httpx.AsyncClient, workspace_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    vip = await segment(core, workspace_id, VIP)
    await customer(core, workspace_id, "c-vip", tags=["vip"])
    await customer(core, workspace_id, "c-not")
    await drain(core)
    rows = core.store.collection("segment_members")
    await rows.delete_one({"segment_id": vip.id, "customer_id": "c-vip"})
    await rows.insert_one(
        {"_id": member_id(vip.id, "c-not"), "segment_id": vip.id, "customer_id": "c-not"}
    )
    headers = {"Authorization": f"Bearer {await api_token(core, workspace_id)}"}
    with caplog.at_level(logging.INFO, logger="kith.segments.reconcile"):
        answer = await client.post(f"/api/v1/segments/{vip.id}/reconcile", headers=headers)
    assert answer.json() == {"fixed": {"added": 1, "removed": 1}, "size": 1}
    assert await members(core, vip.id) == {"c-vip"}
    assert sorted(await moves(core, vip.id)) == [
        ("entered", "c-vip"),  # when it was made
        ("entered", "c-vip"),  # fixed
        ("left", "c-not"),  # fixed
    ]
    shown = (await client.get(f"/api/v1/segments/{vip.id}", headers=headers)).json()
    assert shown["fixed"] == {"added": 1, "removed": 1}
    assert shown["last_reconciled_at"] is not None
    assert [r.__dict__.get("removed") for r in caplog.records] == [1]
    again = await client.post(f"/api/v1/segments/{vip.id}/reconcile", headers=headers)
    assert again.json()["fixed"] == {"added": 0, "removed": 0}


async def test_the_timer_takes_out_who_passed_a_within_days_edge(
    core: Core, workspace_id: str, clock: ManualClock
) -> None:
    recent = await segment(
        core, workspace_id, {"field": "last_seen_at", "op": "within_days", "value": 30}, "recent"
    )
    await customer(core, workspace_id, "c-ada")
    await drain(core)
    assert await members(core, recent.id) == {"c-ada"}
    clock.advance(29 * 86400)
    assert await TimerWorker(core).run_once() == 1  # the 10-minute reconciliation
    assert await members(core, recent.id) == {"c-ada"}
    clock.advance(2 * 86400)
    assert await TimerWorker(core).run_once() == 1
    assert await members(core, recent.id) == set()
    assert await size(core, recent.id) == 0
    assert await moves(core, recent.id) == [("entered", "c-ada"), ("left", "c-ada")]
    timers = await core.store.timers.find({"kind": "segments.reconcile"}).to_list(None)
    assert len(timers) == 1 and timers[0]["fire_at"] > clock.now()
