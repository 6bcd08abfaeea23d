"""Saving an SLA policy retargets the open tickets it concerns (the `sla-recompute` job): paused
time stays excluded, the new due moments reach the SLA worker's sweep, only the concerned
tickets are read, and a killed worker's job is finished by another."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.jobs import JobWorker, get_job, job_kinds
from kith.tickets import sla_recompute
from kith.tickets.actions import do_move_ticket, do_update_ticket
from kith.tickets.models import Status, TicketPatch
from kith.tickets.sla_worker import SlaWorker
from kith.tickets.store import get_ticket
from tests.tickets.test_sla import (  # noqa: F401 (fixtures, found by name)
    HOUR,
    at,
    events,
    open_ticket,
    with_tickets,
)
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    cast,
    cheap_password_hashing,
)


def policy(resolution_minutes: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Standard",
        "default": True,
        "targets": {"normal": {"resolution": resolution_minutes}},
        **extra,
    }


async def test_a_tighter_target_moves_the_breach_earlier_with_the_paused_hour_left_out(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    http: httpx.AsyncClient,
) -> None:
    made = await http.post("/api/v1/sla/policies", json=policy(8 * 60))
    assert (made.status_code, made.json()["recompute_job_id"]) == (201, None)  # no ticket yet
    ticket = await open_ticket(core, cast)
    clock.advance(HOUR)
    await do_move_ticket(core, cast.workspace_id, ticket.id, Status.pending)
    clock.advance(HOUR)  # paused: never counted
    await do_move_ticket(core, cast.workspace_id, ticket.id, Status.open)
    clock.advance(HOUR)
    before = await get_ticket(core, cast.workspace_id, ticket.id)
    assert before.sla is not None and before.sla.resolution_due_at == at(clock, 9 * HOUR)

    changed = await http.put(f"/api/v1/sla/policies/{made.json()['id']}", json=policy(3 * 60))
    assert changed.status_code == 200, changed.text
    job_id = changed.json()["recompute_job_id"]
    assert await JobWorker(core, "jobs").run_once(job_id) == 1
    job = (await http.get(f"/api/v1/jobs/{job_id}")).json()
    assert (job["status"], job["progress"], job["result"]) == (
        "done",
        {"done": 1, "total": 1},
        {"recomputed": 1},
    )
    after = await get_ticket(core, cast.workspace_id, ticket.id)
    # 3 h target, 2 h consumed (the paused hour left out): due at 4 h, not at 3 h.
    assert after.sla is not None and after.sla.resolution_due_at == at(clock, 4 * HOUR)
    assert after.sla_next_at == at(clock, 4 * HOUR)

    sweep = SlaWorker(core, "sla")
    clock.advance(HOUR - 1)
    assert await sweep.run_once() == 0
    clock.advance(1)  # at 4 h: the old due moment (9 h) is far off
    assert await sweep.run_once() == 1
    breaches = await events(core, "ticket.sla_breached")
    assert [(b["data"]["metric"], b["data"]["due_at"]) for b in breaches] == [
        ("resolution", at(clock, 4 * HOUR))
    ]


async def test_a_new_team_policy_takes_over_only_that_teams_open_tickets(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    http: httpx.AsyncClient,
) -> None:
    await http.post("/api/v1/sla/policies", json=policy(8 * 60))
    support = cast.users["support"].id
    theirs = await open_ticket(core, cast, "shop")
    await do_update_ticket(core, cast.workspace_id, theirs.id, TicketPatch(team_id=support))
    others = await open_ticket(core, cast, "help")
    clock.advance(HOUR)
    vip = policy(2 * 60, name="VIP", default=False, team_id=support)
    made = await http.post("/api/v1/sla/policies", json=vip)
    job = await get_job(core, cast.workspace_id, made.json()["recompute_job_id"])
    assert job.progress.total == 1
    await JobWorker(core, "jobs").run_once(job.id)
    moved = await get_ticket(core, cast.workspace_id, theirs.id)
    assert moved.sla is not None and moved.sla.policy_name == "VIP"
    assert moved.sla.resolution_due_at == at(clock, 2 * HOUR)
    kept = await get_ticket(core, cast.workspace_id, others.id)
    assert kept.sla is not None and kept.sla.policy_name == "Standard"
    assert kept.sla.resolution_due_at == at(clock, 8 * HOUR)


async def test_a_killed_workers_recompute_is_finished_by_another_counting_each_ticket_once(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sla_recompute, "CHUNK", 2)
    made = await http.post("/api/v1/sla/policies", json=policy(8 * 60))
    opened = [await open_ticket(core, cast, where) for where in ("shop", "help") * 3]
    await do_move_ticket(core, cast.workspace_id, opened[0].id, Status.solved)  # not open
    changed = await http.put(f"/api/v1/sla/policies/{made.json()['id']}", json=policy(60))
    job_id = changed.json()["recompute_job_id"]
    dying = JobWorker(core, "dying", lease_seconds=30)
    claimed = await dying.claim(job_id)
    assert claimed is not None
    await job_kinds(core)[sla_recompute.KIND].step(core, claimed)  # its writes, then the kill
    clock.advance(31)
    assert await JobWorker(core, "survivor").run_once(job_id) == 1
    done = await get_job(core, cast.workspace_id, job_id)
    assert (done.status, done.progress.done, done.result) == ("done", 5, {"recomputed": 5})
    for ticket in opened[1:]:
        now = await get_ticket(core, cast.workspace_id, ticket.id)
        assert now.sla is not None and now.sla.resolution_due_at == at(clock, HOUR)
    assert await core.store.collection(sla_recompute.CURSORS).count_documents({}) == 0


async def test_saving_a_policy_keeps_a_breached_tickets_lateness_and_its_one_breach(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    http: httpx.AsyncClient,
) -> None:
    """QA pass 10 M1: a ticket nine days late showed four hours late after an edit of another
    target, because a restart made it due `now + max(0, target - consumed)`."""
    standard = {**policy(8 * 60), "targets": {"normal": {"first_reply": 30, "resolution": 480}}}
    made = await http.post("/api/v1/sla/policies", json=standard)
    ticket = await open_ticket(core, cast)
    clock.advance(9 * 24 * HOUR)
    sweep = SlaWorker(core, "sla")
    assert await sweep.run_once() == 1
    assert len(await events(core, "ticket.sla_breached")) == 2  # first reply and resolution

    standard["targets"]["normal"]["first_reply"] = 60  # only the first reply's target
    changed = await http.put(f"/api/v1/sla/policies/{made.json()['id']}", json=standard)
    assert await JobWorker(core, "jobs").run_once(changed.json()["recompute_job_id"]) == 1
    after = await get_ticket(core, cast.workspace_id, ticket.id)
    assert after.sla is not None
    assert after.sla.first_reply_due_at == at(clock, HOUR)  # the new target, from the start
    assert after.sla.resolution_due_at == at(clock, 8 * HOUR)  # unchanged: nine days late
    assert sorted(after.sla.breached) == ["first_reply", "resolution"]
    clock.advance(HOUR)
    assert await sweep.run_once() == 0
    assert len(await events(core, "ticket.sla_breached")) == 2  # no second breach


async def test_a_target_shrunk_below_the_consumed_time_makes_the_ticket_late_by_the_overrun(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    http: httpx.AsyncClient,
) -> None:
    made = await http.post("/api/v1/sla/policies", json=policy(8 * 60))
    ticket = await open_ticket(core, cast)
    clock.advance(3 * HOUR)
    sweep = SlaWorker(core, "sla")
    assert await sweep.run_once() == 0
    changed = await http.put(f"/api/v1/sla/policies/{made.json()['id']}", json=policy(2 * 60))
    assert await JobWorker(core, "jobs").run_once(changed.json()["recompute_job_id"]) == 1
    after = await get_ticket(core, cast.workspace_id, ticket.id)
    # 3 h consumed of a 2 h target: due an hour ago, so an hour late.
    assert after.sla is not None and after.sla.resolution_due_at == at(clock, 2 * HOUR)
    assert await sweep.run_once() == 1
    clock.advance(HOUR)
    assert await sweep.run_once() == 0
    breaches = await events(core, "ticket.sla_breached")
    assert [(b["data"]["metric"], b["data"]["due_at"]) for b in breaches] == [
        ("resolution", at(clock, 2 * HOUR))
    ]
