"""The figures of `GET /api/v1/sequences/{id}/stats`, counted from enrolment and step-run
documents written here as the runner and the consumers write them."""

from __future__ import annotations

from typing import Any

import httpx

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.sequences.models import Enrolment, EnrolmentState, RunOutcome, StepRun
from kith.sequences.store import enrolment_id, enrolments, run_id, runs
from tests.sequences.conftest import MakeSequence
from tests.support.cast import api_token


async def _enrolment(
    core: Core, sequence_id: str, n: int, state: EnrolmentState, **fields: Any
) -> Enrolment:
    customer_id = f"c{n}"
    made = Enrolment(
        id=enrolment_id(sequence_id, customer_id, 1),
        workspace_id="w",
        sequence_id=sequence_id,
        version=1,
        customer_id=customer_id,
        state=state,
        step_id=None if state != EnrolmentState.active else "tip",
        due_at=None,
        source="api",
        enrolled_at=core.clock.now(),
        **fields,
    )
    await enrolments(core).insert_one(made.to_doc())
    return made


async def _run(
    core: Core, enrolment: Enrolment, step_id: str, outcome: RunOutcome, **fields: Any
) -> None:
    run = StepRun(
        id=run_id(enrolment.id, step_id, 1),
        workspace_id=enrolment.workspace_id,
        sequence_id=enrolment.sequence_id,
        version=1,
        enrolment_id=enrolment.id,
        customer_id=enrolment.customer_id,
        step_id=step_id,
        visit=1,
        type="send",
        outcome=outcome,
        **{"at": core.clock.now(), **fields},
    )
    await runs(core).insert_one(run.to_doc())


async def test_stats_count_the_funnel_each_step_and_each_day(
    score: Core,
    clock: ManualClock,
    client: httpx.AsyncClient,
    workspace_id: str,
    make_sequence: MakeSequence,
) -> None:
    sequence = await make_sequence()
    other = await make_sequence()
    now = clock.now()
    a = await _enrolment(score, sequence.id, 1, EnrolmentState.active)
    b = await _enrolment(score, sequence.id, 2, EnrolmentState.completed)
    clock.advance(86400)  # the next day
    c = await _enrolment(score, sequence.id, 3, EnrolmentState.stopped, reason="replied",
                         replied_at=clock.now())  # fmt: skip
    await _enrolment(score, sequence.id, 4, EnrolmentState.stopped, reason="goal",
                     converted_at=clock.now())  # fmt: skip
    await _enrolment(score, sequence.id, 5, EnrolmentState.skipped, reason="no_consent")
    await _enrolment(score, other.id, 6, EnrolmentState.active)
    for enrolment in (a, b, c):
        await _run(score, enrolment, "welcome", RunOutcome.sent, at=now, delivered_at=now)
    await _run(score, c, "tip", RunOutcome.sent, replied_at=clock.now(), clicked_at=clock.now())
    await _run(score, b, "tip", RunOutcome.sent, converted_at=clock.now())
    await _run(score, a, "tip", RunOutcome.skipped, reason="frequency_cap")
    await _run(score, a, "pause", RunOutcome.done)
    token = await api_token(score, workspace_id)
    answer = await client.get(
        f"/api/v1/sequences/{sequence.id}/stats", headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    assert (stats["enrolled"], stats["active"], stats["completed"]) == (4, 1, 1)
    assert stats["stopped"] == {"replied": 1, "goal": 1}
    assert stats["skipped"] == {"no_consent": 1}
    assert stats["steps"]["welcome"] == {
        "sent": 3, "delivered": 3, "failed": 0, "skipped": {}, "replied": 0, "clicked": 0,
        "converted": 0,
    }  # fmt: skip
    assert stats["steps"]["tip"] == {
        "sent": 2, "delivered": 0, "failed": 0, "skipped": {"frequency_cap": 1}, "replied": 1,
        "clicked": 1, "converted": 1,
    }  # fmt: skip
    assert len(stats["daily"]) == 30
    yesterday, today = stats["daily"][-2], stats["daily"][-1]
    assert yesterday == {"day": "2026-01-01", "enrolled": 2, "sent": 3, "replied": 0,
                         "converted": 0}  # fmt: skip
    assert today == {"day": "2026-01-02", "enrolled": 2, "sent": 2, "replied": 1, "converted": 1}
    assert all(p["enrolled"] == 0 for p in stats["daily"][:-2])
    clock.advance(40 * 86400)
    later = (await client.get(f"/api/v1/sequences/{sequence.id}/stats",
                              headers={"authorization": f"Bearer {token}"})).json()  # fmt: skip
    assert sum(p["sent"] for p in later["daily"]) == 0
    assert later["steps"]["welcome"]["sent"] == 3
