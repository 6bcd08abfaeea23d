"""The sequence runner: steps run in order, waits are data, sends obey the courtesy rules,
and a run is recorded once whatever crashes in between."""

from __future__ import annotations

from datetime import timedelta

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Customer
from kith.sequences.enrol import enrol
from kith.sequences.models import Enrolment, EnrolmentState, RunOutcome, StepRun
from kith.sequences.runner import SequenceWorker
from kith.sequences.store import enrolments, runs
from tests.sequences.conftest import MakeSequence, People

DAY = 86400


async def texts(core: Core, customer: Customer) -> list[str]:
    """The marketing messages the customer was sent, oldest first."""
    cursor = core.store.messages.find(
        {"customer_id": customer.id, "purpose": "marketing"}, sort=[("created_at", 1)]
    )
    return [doc["text"] async for doc in cursor]


async def enrolment_of(core: Core, customer: Customer) -> Enrolment:
    doc = await enrolments(core).find_one({"customer_id": customer.id})
    assert doc is not None
    return Enrolment.from_doc(doc)


async def runs_of(core: Core, customer: Customer) -> list[StepRun]:
    cursor = runs(core).find({"customer_id": customer.id}, sort=[("at", 1), ("step_id", 1)])
    return [StepRun.from_doc(doc) async for doc in cursor]


async def test_the_welcome_sends_now_waits_a_day_and_sends_again(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    worker = SequenceWorker(score)
    assert await worker.run_once() == 1
    assert await texts(score, ada) == ["Hi Person 0"]
    waiting = await enrolment_of(score, ada)
    assert waiting.step_id == "tip" and waiting.visits == {"welcome": 1, "pause": 1}
    assert waiting.due_at == clock.now() + timedelta(days=1)
    assert await worker.run_once() == 0  # nothing due: the wait is data
    clock.advance(DAY)
    assert await worker.run_once() == 1
    assert await texts(score, ada) == ["Hi Person 0", "A tip"]
    done = await enrolment_of(score, ada)
    assert done.state == EnrolmentState.completed and done.finished_at == clock.now()
    outcomes = {r.step_id: r.outcome for r in await runs_of(score, ada)}
    assert outcomes == {
        "welcome": RunOutcome.sent,
        "pause": RunOutcome.done,
        "tip": RunOutcome.sent,
    }
