"""Saving an SLA policy or calendar retargets the open tickets it concerns: the durable job
`sla-recompute`.

Without it an edited policy reached a ticket only at the ticket's next change, so a breach
moved earlier by a tighter target went unseen by the SLA worker (whose sweep reads the stored
`sla_next_at`). The job walks the open tickets that may change terms in id order, `CHUNK` to a
step, and retargets each under its current terms (`kith.tickets.sla.retarget`: what ran is
banked in the calendar it ran in first, so paused time stays excluded). Policies and calendars
are read once per step and the batch is written in one `bulk_write`, each update conditional on
the clocks' revision; a batch that lost a race to a ticket action or the SLA worker is redone
ticket by ticket on fresh reads. Retargeting twice at the same moment gives the same clocks, so
a step run again after its worker died is harmless; where a step starts is kept in
`sla_recompute_cursors` under (job, position), as `sequences.bulk` does.

A replaced calendar counts for the time since each clock last started too (as at any ticket
change, the clocks' running time is banked in the calendar as it is stored now): a holiday
added for yesterday is left out of yesterday's time that was not yet banked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.jobs import Job, JobKind, Step, create_job
from kith.tickets import sla_store
from kith.tickets.calendars import BusinessCalendar
from kith.tickets.models import ACTIVE, Ticket
from kith.tickets.sla import Terms, retarget
from kith.tickets.sla_models import (
    AROUND_THE_CLOCK,
    CalendarIn,
    PolicyIn,
    SlaCalendar,
    SlaPolicy,
    TicketSla,
)
from kith.tickets.sla_tickets import apply_to_ticket, guard, stored
from kith.tickets.store import tickets

KIND = "sla-recompute"
CHUNK = 500
CURSORS = "sla_recompute_cursors"


async def do_save_policy(
    core: Core, workspace_id: str, body: PolicyIn, policy_id: str | None = None
) -> tuple[SlaPolicy, Job | None]:
    """Save a policy and queue the retargeting of the open tickets it may now concern: those
    under it, its team's, and (a default) those under the old default or under none."""
    old_defaults: list[str] = []
    if body.default:
        known = await sla_store.list_policies(core, workspace_id)
        old_defaults = [p.id for p in known if p.default]
    policy = await sla_store.save_policy(core, workspace_id, body, policy_id)
    params: dict[str, Any] = {"policy_ids": sorted({policy.id, *old_defaults})}
    if policy.team_id is not None:
        params["team_id"] = policy.team_id
    if policy.default:
        params["no_policy"] = True
    return policy, await start_recompute(core, workspace_id, params)


async def do_delete_policy(core: Core, workspace_id: str, policy_id: str) -> Job | None:
    """Delete a policy; its open tickets fall to their team's or the default policy."""
    await sla_store.delete_policy(core, workspace_id, policy_id)
    return await start_recompute(core, workspace_id, {"policy_ids": [policy_id]})


async def do_save_calendar(
    core: Core, workspace_id: str, body: CalendarIn, calendar_id: str | None = None
) -> tuple[SlaCalendar, Job | None]:
    """Save a calendar; a replaced one retargets the open tickets whose clocks run in it."""
    calendar = await sla_store.save_calendar(core, workspace_id, body, calendar_id)
    if calendar_id is None:  # a new calendar: no ticket runs in it yet
        return calendar, None
    return calendar, await start_recompute(core, workspace_id, {"calendar_id": calendar.id})


async def start_recompute(core: Core, workspace_id: str, params: dict[str, Any]) -> Job | None:
    """Queue the job (None when no open ticket is concerned: later tickets read the new terms)."""
    total = await tickets(core).count_documents(selected(workspace_id, params))
    if not total:
        return None
    return await create_job(core, workspace_id, KIND, params=params, total=total)


def selected(workspace_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The open tickets with clocks whose terms the change may concern."""
    concerned: list[dict[str, Any]] = []
    policy_ids: list[str | None] = list(params.get("policy_ids", []))
    if params.get("no_policy"):
        policy_ids.append(None)
    if policy_ids:
        concerned.append({"sla.policy_id": {"$in": policy_ids}})
    if params.get("team_id") is not None:
        concerned.append({"team_id": params["team_id"]})
    if params.get("calendar_id") is not None:
        concerned.append({"sla.calendar_id": params["calendar_id"]})
    return {
        "workspace_id": workspace_id,
        "status": {"$in": [s.value for s in ACTIVE]},
        "sla": {"$ne": None},
        "$or": concerned,
    }


async def step(core: Core, job: Job) -> Step:
    """Retarget the next CHUNK concerned tickets after where this position starts."""
    cursors = core.store.collection(CURSORS)
    here = await cursors.find_one({"_id": _cursor_id(job.id, job.position)})
    query = selected(job.workspace_id, job.params)
    query["_id"] = {"$gt": here["after"] if here else ""}
    docs = await tickets(core).find(query).sort("_id", 1).limit(CHUNK).to_list()
    batch = [Ticket.from_doc(doc) for doc in docs]
    counts = await _retarget(core, job.workspace_id, batch)
    if batch:
        await cursors.replace_one(
            {"_id": _cursor_id(job.id, job.position + 1)},
            {"job_id": job.id, "after": batch[-1].id},
            upsert=True,
        )
    finished = len(batch) < CHUNK
    return Step(position=job.position + 1, done=len(batch), finished=finished, counts=counts)


async def _retarget(core: Core, workspace_id: str, batch: list[Ticket]) -> dict[str, int]:
    if not batch:
        return {}
    policies = await sla_store.list_policies(core, workspace_id)
    calendars = {c.id: c.business() for c in await sla_store.list_calendars(core, workspace_id)}

    def calendar(calendar_id: str | None) -> BusinessCalendar:
        return calendars.get(calendar_id, AROUND_THE_CLOCK) if calendar_id else AROUND_THE_CLOCK

    now = core.clock.now()
    writes = []
    for ticket in batch:
        assert ticket.sla is not None  # selected: tickets with clocks
        policy = sla_store.pick_policy(policies, ticket.team_id)
        runs_in = calendar(policy.calendar_id if policy else None)
        terms = Terms(policy, runs_in, ticket.priority.value)
        at = _not_before_start(ticket.sla, now)
        sla = retarget(ticket.sla, calendar(ticket.sla.calendar_id), terms, at)
        writes.append(UpdateOne({"_id": ticket.id, **guard(ticket)}, {"$set": stored(sla)}))
    result = await tickets(core).bulk_write(writes, ordered=False)
    if result.matched_count == len(writes):
        return {"recomputed": len(writes)}
    return await _one_by_one(core, batch, now)


async def _one_by_one(core: Core, batch: list[Ticket], now: datetime) -> dict[str, int]:
    """A ticket changed between the read and the write: redo the batch on fresh reads (the
    tickets already written are retargeted again at the same moment, to the same clocks)."""
    counts = {"recomputed": 0, "contended": 0}
    for ticket in batch:
        try:
            await apply_to_ticket(core, ticket.id, now, _unchanged)
            counts["recomputed"] += 1
        except Conflict:  # kept changing: each change read the current terms itself
            counts["contended"] += 1
    return {k: n for k, n in counts.items() if n}


def _unchanged(sla: TicketSla, terms: Terms, now: datetime) -> TicketSla:
    return sla


def _not_before_start(sla: TicketSla, now: datetime) -> datetime:
    """Never before the clocks last started: that time is already banked."""
    return max([now, *(c.running_since for c in sla.metrics.values() if c.running_since)])


def _cursor_id(job_id: str, position: int) -> str:
    return f"{job_id}:{position}"


async def finish(core: Core, job: Job) -> None:
    """Drop the job's cursors, however it ended."""
    await core.store.collection(CURSORS).delete_many({"job_id": job.id})


JOB = JobKind(KIND, step, finish)
