"""Enrolling: once per customer (or again after N days), racing triggers write one
enrolment, and a customer the sequence cannot reach is recorded as skipped with the reason."""

from __future__ import annotations

import asyncio

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.customers import do_update_customer, get_customer
from kith.core.errors import Conflict
from kith.core.models import ConsentState
from kith.sequences.actions import do_update_sequence
from kith.sequences.enrol import GOAL_MET, Outcome, enrol
from kith.sequences.models import EnrolmentState, SequenceIn
from kith.sequences.store import enrolments, get_version
from tests.segments.conftest import VIP, segment
from tests.sequences.conftest import WELCOME, MakeSequence, People
from tests.support.consumers import drain


async def test_a_customer_is_enrolled_once(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    first = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert first.outcome == Outcome.enrolled
    assert first.enrolment.step_id == "welcome"
    assert first.enrolment.due_at == score.clock.now()
    again = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert again.outcome == Outcome.already and again.enrolment.id == first.enrolment.id
    assert await enrolments(score).count_documents({"customer_id": ada.id}) == 1


async def test_racing_triggers_write_one_enrolment(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    results = await asyncio.gather(
        *(enrol(score, workspace_id, sequence.id, ada.id, f"t{n}") for n in range(5))
    )
    assert sorted(r.outcome for r in results).count(Outcome.enrolled) == 1
    assert await enrolments(score).count_documents({"customer_id": ada.id}) == 1


async def test_enrolled_again_after_n_days_once_finished(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence(reenrol_after_days=7)
    first = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    await enrolments(score).update_one(
        {"_id": first.enrolment.id}, {"$set": {"state": EnrolmentState.completed.value}}
    )
    clock.advance(6 * 86400)
    assert (await enrol(score, workspace_id, sequence.id, ada.id, "api")).outcome == "already"
    clock.advance(86400)
    second = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert second.outcome == Outcome.enrolled and second.enrolment.round == 2


async def test_no_consent_is_recorded_as_skipped_and_may_enrol_later(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    revoked = {"consent.api": {"state": ConsentState.revoked.value, "at": score.clock.now()}}
    await score.store.customers.update_one({"_id": ada.id}, {"$set": revoked})
    skipped = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert skipped.outcome == Outcome.skipped
    assert skipped.enrolment.reason == "no_consent"
    await score.store.customers.update_one({"_id": ada.id}, {"$unset": {"consent.api": ""}})
    enrolled = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert enrolled.outcome == Outcome.enrolled and enrolled.enrolment.round == 1


async def test_only_active_sequences_enrol(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    draft = await make_sequence(active=False)
    with pytest.raises(Conflict):
        await enrol(score, workspace_id, draft.id, ada.id, "api")


async def test_editing_an_active_sequence_makes_a_new_version(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    on_v1 = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    changed = SequenceIn.model_validate(
        {**WELCOME, "name": "Welcome v2", "steps": WELCOME["steps"][:1]}
    )
    updated = await do_update_sequence(score, workspace_id, sequence.id, changed)
    assert updated.version == 2
    assert on_v1.enrolment.version == 1
    assert len((await get_version(score, sequence.id, 1)).steps) == 3
    assert len((await get_version(score, sequence.id, 2)).steps) == 1


async def test_a_stop_ends_an_active_enrolment_once(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    from kith.sequences.models import StopReason
    from kith.sequences.stops import remove, stop_for_customer

    ada, bob = await people(2)
    sequence = await make_sequence()
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    bobs = await enrol(score, workspace_id, sequence.id, bob.id, "api")
    assert await stop_for_customer(score, workspace_id, ada.id, StopReason.replied) == 1
    assert await stop_for_customer(score, workspace_id, ada.id, StopReason.replied) == 0
    doc = await enrolments(score).find_one({"customer_id": ada.id})
    assert doc is not None and doc["state"] == "stopped" and doc["reason"] == "replied"
    assert doc["due_at"] is None
    removed = await remove(score, workspace_id, bobs.enrolment.id)
    assert removed.state == EnrolmentState.stopped and removed.reason == "removed"
    with pytest.raises(Conflict):
        await remove(score, workspace_id, bobs.enrolment.id)


async def test_a_customer_who_already_meets_the_goal_is_skipped_until_they_do_not(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    """Braze checks exit criteria on entry: a customer tagged `bought` (the goal) is not sent
    the drip meant to make them buy; once the tag is gone, the next trigger enrols them."""
    (ada, grace) = await people(2)
    sequence = await make_sequence(goal={"tag": "bought"})
    customer = await get_customer(score, workspace_id, ada.id)
    await do_update_customer(score, customer, fields={"tags": ["bought"]})
    skipped = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert skipped.outcome == Outcome.skipped
    assert (skipped.enrolment.state, skipped.enrolment.reason) == ("skipped", GOAL_MET)
    assert (await enrol(score, workspace_id, sequence.id, grace.id, "api")).outcome == "enrolled"
    customer = await get_customer(score, workspace_id, ada.id)
    await do_update_customer(score, customer, fields={"tags": []})
    again = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert again.outcome == Outcome.enrolled


async def test_a_customer_in_the_goal_segment_is_skipped(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada, grace) = await people(2)
    vip = await segment(score, workspace_id, VIP)
    sequence = await make_sequence(goal={"segment_id": vip.id})
    customer = await get_customer(score, workspace_id, ada.id)
    await do_update_customer(score, customer, fields={"tags": ["vip"]})
    await drain(score)  # the segments consumer files her in VIP
    skipped = await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert (skipped.outcome, skipped.enrolment.reason) == (Outcome.skipped, GOAL_MET)
    assert (await enrol(score, workspace_id, sequence.id, grace.id, "api")).outcome == "enrolled"
