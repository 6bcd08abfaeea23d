"""The `sequence-enrol` job taken over after its worker died between a step's writes and its
commit: the step runs again from the same start and every customer is counted once."""

from __future__ import annotations

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.jobs import JobWorker, get_job, job_kinds
from kith.sequences import bulk
from kith.sequences.store import enrolments
from tests.segments.conftest import segment
from tests.sequences.conftest import MakeSequence, People


async def test_a_step_run_again_after_a_kill_counts_each_customer_once(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "CHUNK", 2)
    for customer in await people(5):
        await score.store.customers.update_one({"_id": customer.id}, {"$set": {"tags": ["vip"]}})
    vip = await segment(score, workspace_id, {"field": "tags", "op": "contains", "value": "vip"})
    sequence = await make_sequence()
    job = await bulk.start_segment(score, workspace_id, sequence.id, vip.id)
    dying = JobWorker(score, "dying", lease_seconds=30)
    claimed = await dying.claim(job.id)
    assert claimed is not None
    await job_kinds(score)[bulk.KIND].step(score, claimed)  # its writes, then the kill
    assert await enrolments(score).count_documents({"sequence_id": sequence.id}) == 2
    clock.advance(31)
    assert await JobWorker(score, "survivor").run_once(job.id) == 1
    done = await get_job(score, workspace_id, job.id)
    assert (done.status, done.progress.done, done.result) == ("done", 5, {"enrolled": 5})
    assert await enrolments(score).count_documents({"sequence_id": sequence.id}) == 5
    again = await bulk.start_segment(score, workspace_id, sequence.id, vip.id)
    await JobWorker(score).run_once(again.id)
    assert (await get_job(score, workspace_id, again.id)).result == {"already": 5}
