"""`kith customers import`: the import job run from a terminal, with a progress bar.

The command queues the same job as the API and runs it in its own process, so it needs no
server; should a `kith serve` take the job first, the command follows it instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kith.contacts.imports import ImportOptions, start_import
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.jobs import LIVE, Job, JobWorker, get_job

POLL_SECONDS = 0.5


def parse_map(pairs: list[str]) -> dict[str, str] | None:
    """`--map column=field` options as a mapping (a header may itself hold `=`)."""
    if not pairs:
        return None
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column or not target:
            raise InvalidInput(f"{pair!r}: write column=field", field="--map")
        mapping[column] = target
    return mapping


async def import_file(
    core: Core,
    workspace_id: str,
    data: bytes,
    options: ImportOptions,
    on_progress: Callable[[Job], None],
) -> Job:
    """Queue the import and run it here step by step; answers the ended job."""
    job = await start_import(core, workspace_id, data, options)
    worker = JobWorker(core)
    on_progress(job)
    claimed = await worker.claim(job.id)
    current: Job | None = claimed
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
