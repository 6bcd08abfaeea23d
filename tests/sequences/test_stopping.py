"""What stops enrolments and what customers did after a step, driven by real events through
core and the consumer worker (both lanes): a reply, a STOP keyword and a consent revoked,
the goal's segment entered or tag added, a delivery; and an erasure leaves nothing. Runs
are written as the runner writes them (the runner itself is tested on its own)."""

from __future__ import annotations

from datetime import datetime

from kith.consent.actions import do_change_consent
from kith.consent.feature import feature as consent_feature
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.customers import do_erase_customer, do_update_customer, get_customer
from kith.core.events import SYSTEM
from kith.core.features import install
from kith.core.models import (
    Channel,
    ConsentState,
    Conversation,
    Customer,
    InboundUser,
    OutboundContent,
)
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from kith.sequences.enrol import enrol
from kith.sequences.models import Enrolment, EnrolmentState, RunOutcome, StepRun
from kith.sequences.runner import SequenceWorker
from kith.sequences.stats import sequence_stats
from kith.sequences.stopping import REPLY_WINDOW
from kith.sequences.store import enrolments, message_id, run_id, runs
from tests.segments.conftest import segment
from tests.sequences.conftest import MakeSequence, People
from tests.support.cast import inbound
from tests.support.consumers import drain


async def enrolment_of(core: Core, enrolment_id: str) -> Enrolment:
    doc = await enrolments(core).find_one({"_id": enrolment_id})
    assert doc is not None
    return Enrolment.from_doc(doc)


async def run_of(core: Core, id_: str) -> StepRun:
    doc = await runs(core).find_one({"_id": id_})
    assert doc is not None
    return StepRun.from_doc(doc)


async def sent(core: Core, enrolment: Enrolment, step_id: str, at: datetime) -> StepRun:
    """A sent run of `step_id`, as the runner records it."""
    run = StepRun(
        id=run_id(enrolment.id, step_id, 1),
        workspace_id=enrolment.workspace_id,
        sequence_id=enrolment.sequence_id,
        version=enrolment.version,
        enrolment_id=enrolment.id,
        customer_id=enrolment.customer_id,
        step_id=step_id,
        visit=1,
        type="send",
        outcome=RunOutcome.sent,
        message_id=message_id(enrolment.id, step_id, 1),
        at=at,
    )
    await runs(core).insert_one(run.to_doc())
    return run


async def writes(core: Core, channel: Channel, customer: Customer, text: str) -> None:
    """The customer writes on the API channel (as `people` made them)."""
    user = InboundUser(id=customer.identities[0].external_id)
    await ingest(core, channel, inbound(channel, user=user, text=text))
    await drain(core)


async def started(
    core: Core, clock: ManualClock, workspace_id: str, customer: Customer, sequence_id: str
) -> tuple[Enrolment, StepRun, StepRun]:
    """Enrolled, sent `welcome`, then `tip` an hour later."""
    enrolment = (await enrol(core, workspace_id, sequence_id, customer.id, "api")).enrolment
    welcome = await sent(core, enrolment, "welcome", clock.now())
    clock.advance(3600)
    tip = await sent(core, enrolment, "tip", clock.now())
    clock.advance(60)
    return enrolment, welcome, tip


async def test_a_reply_stops_and_marks_the_latest_sent_run(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    channel: Channel,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence(stop_on_reply=True)
    enrolment, welcome, tip = await started(score, clock, workspace_id, ada, sequence.id)
    await writes(score, channel, ada, "thanks, but what about sizes?")
    after = await enrolment_of(score, enrolment.id)
    assert after.state == EnrolmentState.stopped and after.reason == "replied"
    assert after.replied_at == score.clock.now() and after.step_id is None
    assert (await run_of(score, tip.id)).replied_at == score.clock.now()
    assert (await run_of(score, welcome.id)).replied_at is None
    stopped = await score.store.events.find({"type": "sequence.stopped"}).to_list(None)
    assert [e["data"]["reason"] for e in stopped] == ["replied"]


async def test_without_stop_on_reply_a_reply_is_marked_once_and_the_enrolment_goes_on(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    channel: Channel,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence(stop_on_reply=False)
    enrolment, _, tip = await started(score, clock, workspace_id, ada, sequence.id)
    await writes(score, channel, ada, "nice")
    first = score.clock.now()
    clock.advance(600)
    await writes(score, channel, ada, "again")
    after = await enrolment_of(score, enrolment.id)
    assert after.state == EnrolmentState.active and after.replied_at == first
    assert (await run_of(score, tip.id)).replied_at == first


async def test_a_stop_keyword_unsubscribes_rather_than_replies(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    channel: Channel,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    install(score, [consent_feature])
    (ada, grace) = await people(2)
    sequence = await make_sequence(stop_on_reply=True)
    enrolment, _, tip = await started(score, clock, workspace_id, ada, sequence.id)
    other = (await enrol(score, workspace_id, sequence.id, grace.id, "api")).enrolment
    # Consent revoked on a channel type the sequence does not send on changes nothing.
    await do_change_consent(score, grace, "email", ConsentState.revoked, "test")
    await writes(score, channel, ada, "STOP")
    after = await enrolment_of(score, enrolment.id)
    assert after.state == EnrolmentState.stopped and after.reason == "unsubscribed"
    assert after.replied_at is None and (await run_of(score, tip.id)).replied_at is None
    assert (await enrolment_of(score, other.id)).state == EnrolmentState.active


async def test_entering_the_goal_segment_stops_as_converted(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    buyers = await segment(
        score, workspace_id, {"field": "tags", "op": "contains", "value": "buyer"}
    )
    sequence = await make_sequence(goal={"segment_id": buyers.id})
    (ada,) = await people(1)
    await drain(score)
    enrolment, welcome, tip = await started(score, clock, workspace_id, ada, sequence.id)
    customer = await get_customer(score, workspace_id, ada.id)
    await do_update_customer(score, customer, fields={"tags": ["buyer"]})
    await drain(score)
    after = await enrolment_of(score, enrolment.id)
    assert after.state == EnrolmentState.stopped and after.reason == "goal"
    assert after.converted_at == score.clock.now()
    assert (await run_of(score, tip.id)).converted_at == score.clock.now()
    assert (await run_of(score, welcome.id)).converted_at is None


async def test_the_goal_tag_added_stops_as_converted_and_other_tags_do_not(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    sequence = await make_sequence(goal={"tag": "bought"})
    (ada,) = await people(1)
    enrolment, _, tip = await started(score, clock, workspace_id, ada, sequence.id)
    customer = await get_customer(score, workspace_id, ada.id)
    customer = await do_update_customer(score, customer, fields={"tags": ["browsing"]})
    await drain(score)
    assert (await enrolment_of(score, enrolment.id)).state == EnrolmentState.active
    await do_update_customer(score, customer, fields={"tags": ["browsing", "bought"]})
    await drain(score)
    after = await enrolment_of(score, enrolment.id)
    assert after.reason == "goal" and after.converted_at == score.clock.now()
    assert (await run_of(score, tip.id)).converted_at == score.clock.now()


async def test_a_delivery_marks_its_run(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    channel: Channel,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    _, welcome, tip = await started(score, clock, workspace_id, ada, sequence.id)
    conversation = await score.store.conversations.find_one({"customer_id": ada.id})
    assert conversation is not None
    await send(
        score,
        Conversation.from_doc(conversation),
        OutboundContent(text="A tip"),
        SYSTEM,
        message_id=tip.message_id,
    )
    assert await OutboxWorker(score).run_once() == 1
    await drain(score)
    assert (await run_of(score, tip.id)).delivered_at is not None
    assert (await run_of(score, welcome.id)).delivered_at is None


async def test_erasing_a_customer_leaves_no_enrolment_or_run(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada, grace) = await people(2)
    sequence = await make_sequence()
    await started(score, clock, workspace_id, ada, sequence.id)
    await started(score, clock, workspace_id, grace, sequence.id)
    await do_erase_customer(score, workspace_id, ada.id)
    await drain(score)
    for rows in (enrolments(score), runs(score)):
        assert await rows.count_documents({"customer_id": ada.id}) == 0
        assert await rows.count_documents({"customer_id": grace.id}) > 0


async def test_a_reply_to_the_last_message_counts_though_the_enrolment_completed(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    channel: Channel,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    """Regression (QA sequences #4): a reply after the last step was never counted, because
    only active enrolments were looked at; one after `REPLY_WINDOW` still is not."""
    ada, bob = await people(2)
    only = {"id": "only", "type": "send", "message": {"text": {"en": "Just once"}}}
    sequence = await make_sequence(steps=[only], stop_on_reply=True)
    for customer in (ada, bob):
        await enrol(score, workspace_id, sequence.id, customer.id, "api")
    assert await SequenceWorker(score).run_once() == 2
    clock.advance(3600)
    await writes(score, channel, ada, "ok thanks for the single message")
    answered = await enrolments(score).find_one({"customer_id": ada.id})
    assert answered is not None and answered["state"] == EnrolmentState.completed.value
    assert answered["replied_at"] == score.clock.now() and answered.get("reason") is None
    clock.advance(int(REPLY_WINDOW.total_seconds()))
    await writes(score, channel, bob, "much later")
    late = await enrolments(score).find_one({"customer_id": bob.id})
    assert late is not None and late["replied_at"] is None
    await writes(score, channel, ada, "and again")  # counted once
    stats = await sequence_stats(score, sequence.id)
    assert (stats.steps["only"].sent, stats.steps["only"].replied) == (2, 1)
    assert stats.completed == 2 and stats.stopped == {}
