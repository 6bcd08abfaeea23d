"""`kith sequences enrol` and `kith sequences list`: the bulk enrolment job run from a
terminal, with a progress bar.

The command queues the same job as the API and runs it in its own process, so it needs no
server; should a `kith serve` take the job first, the command follows it instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.jobs import LIVE, Job, JobWorker, get_job
from kith.sequences import bulk
from kith.sequences.models import Sequence
from kith.sequences.queries import list_sequences

POLL_SECONDS = 0.5


def read_ids(text: str) -> list[str]:
    """One customer id a line (blank lines and `#` comments skipped)."""
    ids = [line.strip() for line in text.splitlines()]
    ids = [i for i in ids if i and not i.startswith("#")]
    if not ids:
        raise InvalidInput("the file names no customer", field="--customers")
    if any(len(i) > 64 for i in ids):
        raise InvalidInput("a customer id has at most 64 characters", field="--customers")
    return ids


async def enrol(
    core: Core,
    workspace_id: str,
    sequence_id: str,
    segment_id: str | None,
    customer_ids: list[str] | None,
    on_progress: Callable[[Job], None],
) -> Job:
    """Queue the enrolment and run it here step by step; answers the ended job."""
    if segment_id is not None:
        job = await bulk.start_segment(core, workspace_id, sequence_id, segment_id)
    else:
        assert customer_ids is not None
        job = await bulk.start_list(core, workspace_id, sequence_id, customer_ids)
    on_progress(job)
    worker = JobWorker(core)
    current: Job | None = await worker.claim(job.id)
    while current is not None:
        on_progress(current)
        current = await worker.step(current)
    job = await get_job(core, workspace_id, job.id)
    while job.status in LIVE:  # another process holds it: follow its progress
        on_progress(job)
        await asyncio.sleep(POLL_SECONDS)
        job = await get_job(core, workspace_id, job.id)
    on_progress(job)
    return job


async def every_sequence(core: Core, workspace_id: str) -> list[Sequence]:
    found: list[Sequence] = []
    cursor: str | None = None
    while True:
        page, cursor = await list_sequences(core, workspace_id, cursor=cursor, limit=100)
        found += page
        if cursor is None:
            return found
