"""Enrolling many customers: a short list within the request, a segment (or a long list from
`kith sequences enrol --customers`) as the durable job `sequence-enrol`.

The job walks its customers in id order, `CHUNK` to a step. Where a step starts is kept in
`sequence_enrol_cursors` under (job, position): a step run again after a crash reads the same
start and enrols the same customers again, which `enrol` answers "already" (counted as
enrolled when the enrolment's source is this job), and the job's counters move only with the
step's commit: each customer is counted once, however often a step ran. A sequence paused
while its job runs fails the job (409's message), and what it enrolled stays enrolled. A
list's ids are stored once, as rows of `sequence_enrol_rows`, before the job is queued.
"""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, NotFound
from kith.core.events import SYSTEM
from kith.core.ids import new_id
from kith.core.jobs import Job, JobKind, Step, create_job
from kith.core.models import Author
from kith.segments.records import MEMBERS
from kith.sequences.enrol import Outcome, enrol
from kith.sequences.models import Status
from kith.sequences.schemas import EnrolResult
from kith.sequences.store import get_sequence

KIND = "sequence-enrol"
CHUNK = 200
CURSORS = "sequence_enrol_cursors"
ROWS = "sequence_enrol_rows"


async def enrol_each(
    core: Core, workspace_id: str, sequence_id: str, customer_ids: list[str], source: str
) -> list[EnrolResult]:
    """Enrol each customer now; an unknown one is answered skipped (`not_found`)."""
    await _active(core, workspace_id, sequence_id)
    return [
        await _one(core, workspace_id, sequence_id, customer_id, source)
        for customer_id in dict.fromkeys(customer_ids)
    ]


async def _one(
    core: Core, workspace_id: str, sequence_id: str, customer_id: str, source: str
) -> EnrolResult:
    try:
        done = await enrol(core, workspace_id, sequence_id, customer_id, source)
    except NotFound as exc:
        if exc.field != "customer_id":
            raise
        return EnrolResult(customer_id=customer_id, outcome=Outcome.skipped, reason="not_found")
    return EnrolResult(
        customer_id=customer_id,
        outcome=done.outcome,
        reason=done.enrolment.reason if done.outcome == Outcome.skipped else None,
        enrolment_id=done.enrolment.id,
        source=done.enrolment.source,
    )


async def _active(core: Core, workspace_id: str, sequence_id: str) -> None:
    """Refuse up front (409) what `enrol` would refuse for every customer."""
    sequence = await get_sequence(core, workspace_id, sequence_id)
    if sequence.status != Status.active:
        raise Conflict(
            "only an active sequence enrols customers", field="status", reason="not_active"
        )


async def start_segment(
    core: Core, workspace_id: str, sequence_id: str, segment_id: str, actor: Author = SYSTEM
) -> Job:
    """Queue the enrolment of the segment's members (as they are when each step reads)."""
    await _active(core, workspace_id, sequence_id)
    segment = await core.store.collection("segments").find_one(
        {"_id": segment_id, "workspace_id": workspace_id}, {"_id": 1}
    )
    if segment is None:
        raise InvalidInput("no such segment in this workspace", field="segment_id")
    total = await core.store.collection(MEMBERS).count_documents(
        {"segment_id": segment_id, "leaving": None}
    )
    params = {"sequence_id": sequence_id, "segment_id": segment_id, "actor": _actor(actor)}
    return await create_job(core, workspace_id, KIND, params=params, total=total)


async def start_list(
    core: Core, workspace_id: str, sequence_id: str, customer_ids: list[str], actor: Author = SYSTEM
) -> Job:
    """Queue the enrolment of a list of any length (its ids stored as rows first)."""
    await _active(core, workspace_id, sequence_id)
    wanted = sorted(set(customer_ids))
    if not wanted:
        raise InvalidInput("no customer ids", field="customer_ids")
    job_id = new_id()
    for start in range(0, len(wanted), 1000):
        batch = wanted[start : start + 1000]
        await core.store.collection(ROWS).insert_many(
            [{"job_id": job_id, "customer_id": c} for c in batch]
        )
    params = {"sequence_id": sequence_id, "list": True, "actor": _actor(actor)}
    return await create_job(
        core, workspace_id, KIND, params=params, total=len(wanted), job_id=job_id
    )


def _actor(actor: Author) -> dict[str, Any]:
    return actor.model_dump(mode="json")


async def step(core: Core, job: Job) -> Step:
    """Enrol the next CHUNK customers after where this position starts."""
    cursors = core.store.collection(CURSORS)
    here = await cursors.find_one({"_id": _cursor_id(job.id, job.position)})
    after = here["after"] if here else ""
    ids = await _next_ids(core, job, after)
    counts: dict[str, int] = {}
    source = f"bulk:{job.id}"
    for customer_id in ids:
        result = await _one(core, job.workspace_id, job.params["sequence_id"], customer_id, source)
        key = _counted(result, source)
        counts[key] = counts.get(key, 0) + 1
    if ids:
        next_id = _cursor_id(job.id, job.position + 1)
        await cursors.replace_one(
            {"_id": next_id}, {"job_id": job.id, "after": ids[-1]}, upsert=True
        )
    return Step(position=job.position + 1, done=len(ids), finished=len(ids) < CHUNK, counts=counts)


def _counted(result: EnrolResult, source: str) -> str:
    if result.reason == "not_found":
        return "not_found"
    if result.outcome == Outcome.already and result.source == source:
        return Outcome.enrolled.value  # by this job, in a step that died before its commit
    return result.outcome.value


async def _next_ids(core: Core, job: Job, after: str) -> list[str]:
    if job.params.get("list"):
        query: dict[str, Any] = {"job_id": job.id, "customer_id": {"$gt": after}}
        source = core.store.collection(ROWS)
    else:
        query = {"segment_id": job.params["segment_id"], "leaving": None}
        query["customer_id"] = {"$gt": after}
        source = core.store.collection(MEMBERS)
    rows = source.find(query, {"customer_id": 1}).sort("customer_id", 1).limit(CHUNK)
    return [str(row["customer_id"]) async for row in rows]


def _cursor_id(job_id: str, position: int) -> str:
    return f"{job_id}:{position}"


async def finish(core: Core, job: Job) -> None:
    """Drop the job's working data, however it ended."""
    await core.store.collection(CURSORS).delete_many({"job_id": job.id})
    await core.store.collection(ROWS).delete_many({"job_id": job.id})


JOB = JobKind(KIND, step, finish)
