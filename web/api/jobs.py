"""`/api/v1/jobs`: follow a long job (an import) and cancel it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from kith.core.jobs import (
    Job,
    JobError,
    JobProgress,
    JobStatus,
    JobWarning,
    cancel_job,
    get_job,
)
from kith.web.api.deps import CoreDep, WorkspaceDep

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobOut(BaseModel):
    id: str
    kind: str
    status: JobStatus
    progress: JobProgress
    result: dict[str, int]
    errors: list[JobError]
    error_count: int
    warnings: list[JobWarning]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def job_out(job: Job) -> JobOut:
    return JobOut.model_validate(job.model_dump())


@router.get("/{job_id}", response_model=JobOut)
async def get(job_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> JobOut:
    """A job of this workspace: status, progress, counts, its first 100 errors (each with a
    `code` and the `params` its wording needs, such as an import's `bad_phone` and the
    `region` a number without its country code is read in) and the input it leaves out
    (`warnings`: an import's ignored columns, each with a `code`)."""
    return job_out(await get_job(core, workspace_id, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut)
async def cancel(job_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> JobOut:
    """Stop a queued or running job after its current step; 409 when it already ended."""
    return job_out(await cancel_job(core, workspace_id, job_id))
