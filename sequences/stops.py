"""Stopping enrolments: on a reply, an unsubscribe, the goal, a manual removal.

A stop is one conditional update from `active`, so it wins over a worker that has the
enrolment claimed: the worker's own advance is conditional on `active` too, and it reads the
state again right before a send. Each stop is recorded as a `sequence.stopped` event.
"""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.events import SYSTEM, build_event, record
from kith.core.models import Author
from kith.sequences.models import Enrolment, EnrolmentState, StopReason
from kith.sequences.store import enrolments, get_enrolment

ACTIVE = EnrolmentState.active.value


async def stop_one(
    core: Core, enrolment: Enrolment, reason: StopReason, actor: Author = SYSTEM
) -> bool:
    """Stop this enrolment if it is still active (False when it had already ended)."""
    now = core.clock.now()
    fields: dict[str, Any] = {
        "state": EnrolmentState.stopped.value,
        "reason": reason.value,
        "step_id": None,
        "due_at": None,
        "finished_at": now,
        "lease_until": None,
    }
    if reason == StopReason.goal:
        fields["converted_at"] = now
    result = await enrolments(core).update_one(
        {"_id": enrolment.id, "state": ACTIVE}, {"$set": fields}
    )
    if not result.modified_count:
        return False
    data = {
        "sequence_id": enrolment.sequence_id,
        "enrolment_id": enrolment.id,
        "reason": reason.value,
    }
    event = build_event(
        core,
        enrolment.workspace_id,
        "sequence.stopped",
        actor=actor,
        customer_id=enrolment.customer_id,
        data=data,
    )
    await record(core, event)
    return True


async def stop_for_customer(
    core: Core,
    workspace_id: str,
    customer_id: str,
    reason: StopReason,
    *,
    sequence_ids: list[str] | None = None,
    actor: Author = SYSTEM,
) -> int:
    """Stop the customer's active enrolments (in `sequence_ids` only, when given)."""
    query: dict[str, Any] = {
        "workspace_id": workspace_id,
        "customer_id": customer_id,
        "state": ACTIVE,
    }
    if sequence_ids is not None:
        query["sequence_id"] = {"$in": sequence_ids}
    stopped = 0
    async for doc in enrolments(core).find(query):
        stopped += await stop_one(core, Enrolment.from_doc(doc), reason, actor)
    return stopped


async def remove(
    core: Core, workspace_id: str, enrolment_id: str, actor: Author = SYSTEM
) -> Enrolment:
    """A marketer takes a customer out of a sequence (409 when it had already ended)."""
    enrolment = await get_enrolment(core, workspace_id, enrolment_id)
    if not await stop_one(core, enrolment, StopReason.removed, actor):
        raise Conflict("this enrolment has already ended", field="enrolment_id")
    return await get_enrolment(core, workspace_id, enrolment_id)


async def stop_sequence(core: Core, workspace_id: str, sequence_id: str, actor: Author) -> int:
    """Stop every active enrolment of an archived sequence: archiving ends the journey for
    everyone on it (each stop recorded, as a removal would be)."""
    query = {"workspace_id": workspace_id, "sequence_id": sequence_id, "state": ACTIVE}
    stopped = 0
    async for doc in enrolments(core).find(query):
        stopped += await stop_one(core, Enrolment.from_doc(doc), StopReason.archived, actor)
    return stopped
