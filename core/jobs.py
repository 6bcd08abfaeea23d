"""Durable jobs: long work (an import, a broadcast's enrolment) run in steps, with progress.

A job is a document in `jobs`. Features declare what a kind of job does (`Feature.jobs`, a
`JobKind`): `step(core, job)` does the next piece of work from `job.position` and answers a
`Step`. A `JobWorker` runs in every `kith serve`: it claims a queued job, or one whose lease
has expired, under a lease held in the document, and after each step stores the new position,
the progress, the counters and the first errors in one write made only under its lease (which
that write renews). So a killed process's job is taken over where its last step ended, and a
step taken over twice is never counted twice; a step's own writes must be idempotent (derive
ids from the job and the position), since a step that died before its commit runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from pymongo import ASCENDING, ReturnDocument

from kith.core.clock import wall
from kith.core.collection import RetryingCollection
from kith.core.errors import Conflict, NotFound
from kith.core.ids import new_id
from kith.core.leases import worker_owner
from kith.core.models import Record

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.features import Feature

log = logging.getLogger(__name__)

MAX_ERRORS = 100  # errors kept on a job; `error_count` counts them all


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


LIVE = (JobStatus.queued, JobStatus.running)


class JobProgress(BaseModel):
    done: int = 0
    total: int | None = None


class JobError(BaseModel):
    """One item the job could not do (a CSV row): where, a code saying why (with the numbers
    or names it refers to, for a page to word it in its own language), and the why in words.
    Never the value itself, which may be personal data kept longer than the customer."""

    row: int | None = None
    column: str | None = None
    code: str = "invalid"  # what errors stored before codes existed read as
    params: dict[str, str | int | list[str]] = Field(default_factory=dict)
    message: str


class JobWarning(BaseModel):
    """Input the job leaves out, known when it is queued (an import's column no field takes,
    a row's cells beyond the header): which, a code saying why (with the numbers its wording
    needs), and the why in words."""

    column: str | None = None
    row: int | None = None
    code: str
    params: dict[str, str | int | list[str]] = Field(default_factory=dict)
    message: str


class Job(Record):
    kind: str
    status: JobStatus = JobStatus.queued
    progress: JobProgress = Field(default_factory=JobProgress)
    result: dict[str, int] = Field(default_factory=dict)
    errors: list[JobError] = Field(default_factory=list)
    error_count: int = 0
    warnings: list[JobWarning] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    position: int = 0
    error: str | None = None  # why the job failed as a whole
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class Step:
    """What one step did: `done` items more, counters to add, its errors, and where the next
    step starts (`finished`: there is none)."""

    position: int
    done: int
    finished: bool
    counts: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[JobError, ...] = ()


StepRunner = Callable[["Core", Job], Awaitable[Step]]
Finisher = Callable[["Core", Job], Awaitable[None]]


async def _nothing(core: Core, job: Job) -> None:
    return None


@dataclass(frozen=True)
class JobKind:
    """A kind of job a feature runs: its `step`, and `finish`, called once the job has ended
    however it ended (to drop its working data)."""

    name: str
    step: StepRunner
    finish: Finisher = _nothing


def jobs_of(core: Core) -> RetryingCollection:
    return core.store.collection("jobs")


def job_kinds(core: Core) -> dict[str, JobKind]:
    return {kind.name: kind for feature in core.features for kind in feature.jobs}


async def create_job(
    core: Core,
    workspace_id: str,
    kind: str,
    *,
    params: dict[str, Any] | None = None,
    total: int | None = None,
    job_id: str | None = None,
    warnings: Sequence[JobWarning] = (),
) -> Job:
    """Queue a job; any worker will take it."""
    if kind not in job_kinds(core):
        raise ValueError(f"no feature declares the job kind {kind!r}")
    job = Job(
        id=job_id or new_id(),
        workspace_id=workspace_id,
        kind=kind,
        params=params or {},
        progress=JobProgress(total=total),
        warnings=list(warnings),
        created_at=core.clock.now(),
    )
    await jobs_of(core).insert_one(job.to_doc())
    return job


async def get_job(core: Core, workspace_id: str, job_id: str) -> Job:
    doc = await jobs_of(core).find_one({"_id": job_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such job", field="job_id")
    return Job.from_doc(doc)


async def cancel_job(core: Core, workspace_id: str, job_id: str) -> Job:
    """Stop a queued or running job after its current step (what it did stays done)."""
    now = core.clock.now()
    doc = await jobs_of(core).find_one_and_update(
        {"_id": job_id, "workspace_id": workspace_id, "status": {"$in": list(LIVE)}},
        {"$set": {"status": JobStatus.cancelled, "finished_at": now}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        job = await get_job(core, workspace_id, job_id)
        raise Conflict(f"the job is already {job.status.value}", field="job_id")
    job = Job.from_doc(doc)
    await _finish(core, job)
    return job


async def _finish(core: Core, job: Job) -> None:
    kind = job_kinds(core).get(job.kind)
    if kind is not None:
        await kind.finish(core, job)


class JobWorker:
    """Claims jobs under a lease and runs them step by step (one in every `kith serve`)."""

    def __init__(
        self,
        core: Core,
        owner: str | None = None,
        *,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self.core = core
        self.owner = worker_owner(owner)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds

    def _lease(self) -> dict[str, Any]:
        """Held for real seconds (`wall`), whatever the demo's clock speed."""
        until = wall(self.core.clock).now() + timedelta(seconds=self.lease_seconds)
        return {"lease_owner": self.owner, "lease_until": until}

    async def claim(self, job_id: str | None = None) -> Job | None:
        """A queued job, or a running one whose holder's lease ran out (oldest first)."""
        now = self.core.clock.now()
        query: dict[str, Any] = {
            "kind": {"$in": list(job_kinds(self.core))},
            "$or": [
                {"status": JobStatus.queued},
                {"status": JobStatus.running, "lease_until": {"$lte": wall(self.core.clock).now()}},
            ],
        }
        if job_id is not None:
            query["_id"] = job_id
        doc = await jobs_of(self.core).find_one_and_update(
            query,
            {"$set": {"status": JobStatus.running, **self._lease()}},
            sort=[("created_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        if doc.get("started_at") is None:
            doc["started_at"] = now
            await jobs_of(self.core).update_one({"_id": doc["_id"]}, {"$set": {"started_at": now}})
        return Job.from_doc(doc)

    async def step(self, job: Job) -> Job | None:
        """Run one step of a claimed job and store its outcome under the lease. Answers the
        job as it now stands, or None when it ended or is no longer this worker's."""
        kind = job_kinds(self.core)[job.kind]
        try:
            step = await kind.step(self.core, job)
        except Exception as exc:
            log.exception("job step failed", extra={"job": job.id, "kind": job.kind})
            await self._end(job, JobStatus.failed, {"error": f"{type(exc).__name__}: {exc}"})
            return None
        changes: dict[str, Any] = {"position": step.position, **self._lease()}
        if step.finished:
            changes |= {"status": JobStatus.done, "finished_at": self.core.clock.now()}
        update: dict[str, Any] = {
            "$set": changes,
            "$inc": {
                "progress.done": step.done,
                "error_count": len(step.errors),
                **{f"result.{k}": n for k, n in step.counts.items()},
            },
        }
        if step.errors:
            errors = [e.model_dump() for e in step.errors]
            update["$push"] = {"errors": {"$each": errors, "$slice": MAX_ERRORS}}
        doc = await jobs_of(self.core).find_one_and_update(
            {"_id": job.id, "lease_owner": self.owner, "status": JobStatus.running},
            update,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # cancelled, or taken over after this worker's lease ran out
            return None
        stepped = Job.from_doc(doc)
        if step.finished:
            await _finish(self.core, stepped)
            return None
        return stepped

    async def _end(self, job: Job, status: JobStatus, changes: dict[str, Any]) -> None:
        now = self.core.clock.now()
        result = await jobs_of(self.core).update_one(
            {"_id": job.id, "lease_owner": self.owner, "status": JobStatus.running},
            {"$set": {"status": status, "finished_at": now, **changes}},
        )
        if result.modified_count:
            await _finish(self.core, job)

    async def run(self, job: Job, max_steps: int | None = None) -> None:
        """Step a claimed job until it ends, is lost, or `max_steps` were taken."""
        steps = 0
        current: Job | None = job
        while current is not None and (max_steps is None or steps < max_steps):
            current = await self.step(current)
            steps += 1
            await asyncio.sleep(0)  # a long job leaves the event loop to requests

    async def run_once(self, job_id: str | None = None) -> int:
        """Run every job there is to claim now (or just `job_id`); how many were claimed."""
        claimed = 0
        while (job := await self.claim(job_id)) is not None:
            claimed += 1
            await self.run(job)
        return claimed

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The background loop of `kith serve`."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("job pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)


def feature(core: Core) -> Feature:
    """The job worker of this process, and the index it claims by."""
    from kith.core.features import Feature, Index

    claim_order = Index("jobs", (("status", 1), ("created_at", 1)))
    by_workspace = Index("jobs", (("workspace_id", 1), ("created_at", -1)))
    return Feature(
        name="jobs",
        indexes=(claim_order, by_workspace),
        background=(JobWorker(core).run_forever,),
    )
