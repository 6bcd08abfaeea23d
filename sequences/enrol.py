"""Enrolling a customer in a sequence: the one way in, for every trigger and for bulk.

Rules: the sequence must be active; a customer is enrolled once, or again
`reenrol_after_days` after their last enrolment began; a customer who already meets the
sequence's goal (has its tag, is in its segment), or whom it could not reach (no reachable
channel, no consent), is recorded as skipped with the reason and may be enrolled later. The
enrolment's id is derived from (sequence, customer, round), so two triggers racing for one
customer write one enrolment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.errors import Conflict
from kith.core.events import build_event, record
from kith.core.models import Customer
from kith.courtesy.policy import Skip, decide
from kith.segments.records import MEMBERS
from kith.sequences.models import Enrolment, EnrolmentState, Sequence, Status
from kith.sequences.store import enrolment_id, enrolments, get_sequence

GOAL_MET = "goal_met"  # the skip's reason: already converted when the trigger fired


class Outcome(StrEnum):
    enrolled = "enrolled"
    already = "already"  # enrolled now, or once and not yet due to be enrolled again
    skipped = "skipped"


@dataclass(frozen=True)
class Enrolled:
    outcome: Outcome
    enrolment: Enrolment


async def enrol(
    core: Core, workspace_id: str, sequence_id: str, customer_id: str, source: str
) -> Enrolled:
    sequence = await get_sequence(core, workspace_id, sequence_id)
    if sequence.status != Status.active:
        raise Conflict(
            "only an active sequence enrols customers", field="sequence_id", reason="not_active"
        )
    customer = await get_customer(core, workspace_id, customer_id)
    last = await _latest(core, sequence.id, customer.id)
    if last is not None and not _may_enrol_again(core, sequence, last):
        return Enrolled(Outcome.already, last)
    round = last.round + (last.state != EnrolmentState.skipped) if last else 1
    now = core.clock.now()
    met = await _goal_met(core, sequence, customer)
    decision = Skip(GOAL_MET) if met else await decide(core, customer, sequence.channels, now, None)
    enrolment = Enrolment(
        id=enrolment_id(sequence.id, customer.id, round),
        workspace_id=workspace_id,
        sequence_id=sequence.id,
        version=sequence.version,
        customer_id=customer.id,
        round=round,
        step_id=sequence.steps[0].id,
        due_at=now,
        source=source,
        enrolled_at=now,
    )
    if isinstance(decision, Skip):
        enrolment = enrolment.model_copy(
            update={
                "state": EnrolmentState.skipped,
                "reason": str(decision.reason),
                "step_id": None,
                "due_at": None,
                "finished_at": now,
            }
        )
    return await _write(core, enrolment)


async def _goal_met(core: Core, sequence: Sequence, customer: Customer) -> bool:
    """Whether the customer has already converted (Braze checks exit criteria on entry too):
    a tag goal they carry, a segment goal they are in. A new order is an event: it is never
    met beforehand."""
    goal = sequence.goal
    if goal is None:
        return False
    if goal.tag is not None:
        return goal.tag in customer.tags
    if goal.segment_id is None:
        return False
    row = await core.store.collection(MEMBERS).find_one(
        {"segment_id": goal.segment_id, "customer_id": customer.id}, {"leaving": 1}
    )
    return row is not None and not row.get("leaving")


async def _latest(core: Core, sequence_id: str, customer_id: str) -> Enrolment | None:
    doc = await enrolments(core).find_one(
        {"sequence_id": sequence_id, "customer_id": customer_id}, sort=[("round", -1)]
    )
    return Enrolment.from_doc(doc) if doc else None


def _may_enrol_again(core: Core, sequence: Sequence, last: Enrolment) -> bool:
    if last.state == EnrolmentState.skipped:
        return True
    if last.state == EnrolmentState.active or sequence.reenrol_after_days is None:
        return False
    return core.clock.now() >= last.enrolled_at + timedelta(days=sequence.reenrol_after_days)


async def _write(core: Core, enrolment: Enrolment) -> Enrolled:
    """Insert the enrolment, or replace this round's skipped one; a racing writer wins."""
    doc = enrolment.to_doc()
    rows = enrolments(core)
    try:
        replaced = await rows.replace_one(
            {"_id": enrolment.id, "state": EnrolmentState.skipped.value}, doc
        )
        if not replaced.matched_count:
            await rows.insert_one(doc)
    except DuplicateKeyError:
        found = await rows.find_one({"_id": enrolment.id})
        return Enrolled(Outcome.already, Enrolment.from_doc(found or doc))
    skipped = enrolment.state == EnrolmentState.skipped
    await record(
        core,
        build_event(
            core,
            enrolment.workspace_id,
            "sequence.skipped" if skipped else "sequence.enrolled",
            customer_id=enrolment.customer_id,
            data={
                "sequence_id": enrolment.sequence_id,
                "enrolment_id": enrolment.id,
                "source": enrolment.source,
                "reason": enrolment.reason,
            },
        ),
    )
    return Enrolled(Outcome.skipped if skipped else Outcome.enrolled, enrolment)
