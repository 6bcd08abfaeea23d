"""Archiving a sequence ends it for everyone on it: no archived sequence keeps customers
waiting for steps that will never run (both lanes)."""

from __future__ import annotations

from kith.core.context import Core
from kith.sequences.actions import move
from kith.sequences.enrol import enrol
from kith.sequences.models import EnrolmentState, Status
from kith.sequences.store import enrolments
from tests.sequences.conftest import MakeSequence, People


async def test_archiving_stops_every_active_enrolment_and_records_each_stop(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    ada, bob = await people(2)
    sequence = await make_sequence()
    other = await make_sequence()
    for customer in (ada, bob):
        await enrol(score, workspace_id, sequence.id, customer.id, "api")
    kept = await enrol(score, workspace_id, other.id, ada.id, "api")
    await move(score, workspace_id, sequence.id, Status.archived)
    states = {
        doc["customer_id"]: (doc["state"], doc["reason"], doc["due_at"])
        async for doc in enrolments(score).find({"sequence_id": sequence.id})
    }
    stopped = (EnrolmentState.stopped.value, "archived", None)
    assert states == {ada.id: stopped, bob.id: stopped}
    assert await score.store.events.count_documents({"type": "sequence.stopped"}) == 2
    other_doc = await enrolments(score).find_one({"_id": kept.enrolment.id})
    assert other_doc is not None
    assert other_doc["state"] == EnrolmentState.active.value
