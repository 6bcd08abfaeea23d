"""The runner under pressure: webhooks through the egress guard, a pause in the middle of a
batch, stops by another process, a worker killed between acting and recording, and a
backlog after downtime (spread through the outbox window, or dropped past `send_by`)."""

from __future__ import annotations

import json
from datetime import timedelta

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.outbox import OutboxWorker
from kith.core.signatures import sign
from kith.courtesy.window import Window
from kith.sequences.actions import move
from kith.sequences.enrol import enrol
from kith.sequences.models import EnrolmentState, RunOutcome, Status, Step, StopReason
from kith.sequences.runner import REREAD, SequenceWorker
from kith.sequences.steps import Later, Ran, Run, execute
from kith.sequences.stops import stop_one
from kith.sequences.store import run_id
from kith.sequences.webhook_keys import new_webhook_secret
from tests.sequences.conftest import Hook, MakeSequence, People
from tests.sequences.test_runner import enrolment_of, runs_of, texts

HELLO = {"id": "hello", "type": "send", "message": {"text": {"en": "Hello"}}}


def ping(url: str) -> dict[str, object]:
    return {"id": "ping", "type": "webhook", "url": url, "timeout_seconds": 5}


async def test_a_webhook_is_signed_and_carries_the_run_id_as_idempotency_key(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence, hook: Hook
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence(steps=[ping(hook.url), HELLO])
    secret = await new_webhook_secret(score, workspace_id, sequence.id)
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1
    (request,) = hook.requests
    enrolment = await enrolment_of(score, ada)
    assert request.headers["idempotency-key"] == run_id(enrolment.id, "ping", 1)
    stamp = int(score.clock.now().timestamp())
    assert request.headers["x-kith-signature"] == sign(secret, stamp, request.body)
    body = json.loads(request.body)
    assert body["customer"]["id"] == ada.id and body["step_id"] == "ping"
    assert await texts(score, ada) == ["Hello"]


async def test_a_failing_webhook_is_a_failed_run_and_the_journey_goes_on(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence, hook: Hook
) -> None:
    (ada,) = await people(1)
    hook.status = 503
    sequence = await make_sequence(steps=[ping(hook.url), HELLO])
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1
    outcomes = {r.step_id: (r.outcome, r.reason) for r in await runs_of(score, ada)}
    assert outcomes == {"ping": (RunOutcome.failed, "http_503"), "hello": (RunOutcome.sent, None)}


async def test_a_webhook_to_a_refused_address_fails_before_any_packet(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence, hook: Hook
) -> None:
    (ada,) = await people(1)
    metadata = "http://169.254.169.254/latest/meta-data/"
    sequence = await make_sequence(steps=[ping(metadata)])
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1
    (run,) = await runs_of(score, ada)
    assert (run.outcome, run.reason) == (RunOutcome.failed, "unreachable")


async def test_a_pause_in_the_middle_of_a_batch_stops_it_there_and_resume_goes_on(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
    hook: Hook,
) -> None:
    crowd = await people(3)
    sequence = await make_sequence(steps=[ping(hook.url), HELLO])

    async def pause() -> None:  # the receiver's owner pauses the sequence mid-batch
        if len(hook.requests) == 1:
            await move(score, workspace_id, sequence.id, Status.paused)

    hook.on_request = pause
    for who in crowd:
        await enrol(score, workspace_id, sequence.id, who.id, "api")
    worker = SequenceWorker(score)
    await worker.run_once()
    assert len(hook.requests) == 3  # the webhooks had gone out; no send did after the pause
    for who in crowd:
        assert await texts(score, who) == []
        assert (await enrolment_of(score, who)).step_id == "hello"
    assert await worker.run_once() == 0  # a paused sequence's enrolments are not claimed
    await move(score, workspace_id, sequence.id, Status.active)
    clock.advance(REREAD.total_seconds())  # a worker sees a resume within REREAD
    assert await worker.run_once() == 3
    for who in crowd:
        assert await texts(score, who) == ["Hello"]
        assert (await enrolment_of(score, who)).state == EnrolmentState.completed
    assert len(hook.requests) == 3  # resumed where it stopped: nothing ran twice


async def test_a_stopped_enrolment_never_gets_another_step(
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
    await worker.run_once()
    assert await stop_one(score, await enrolment_of(score, ada), StopReason.replied)
    clock.advance(2 * 86400)
    assert await worker.run_once() == 0
    assert await texts(score, ada) == ["Hi Person 0"]


async def doomed(core: Core) -> tuple[SequenceWorker, Run, Step]:
    """A worker that claims the first due enrolment and is about to run its step: the test
    decides how far it gets before it is killed (it never advances the enrolment)."""
    worker = SequenceWorker(core, owner="doomed")
    (claim,) = await worker._claim()
    enrolment = claim.enrolment
    version = await worker._version(enrolment)
    step = version.step(enrolment.step_id or "")
    assert step is not None
    rid = run_id(enrolment.id, step.id, 1)
    now = core.clock.now()
    return worker, Run(core, enrolment, version, claim.token, 1, rid, now, Window(core, 9)), step


async def test_a_stop_while_claimed_wins_over_the_send(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    """The send re-reads the state right before going out (another process stopped it)."""
    (ada,) = await people(1)
    sequence = await make_sequence()
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    _, run, step = await doomed(score)
    assert await stop_one(score, run.enrolment, StopReason.unsubscribed)
    assert isinstance(await execute(run, step), Later)
    assert await texts(score, ada) == []


async def test_a_worker_killed_after_its_send_sends_nothing_twice(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    _, run, step = await doomed(score)
    assert isinstance(await execute(run, step), Ran)  # sent; killed before recording it
    fresh = SequenceWorker(score)
    assert await fresh.run_once() == 0  # the lease still holds
    clock.advance(score.settings.sequence_lease_seconds + 1)
    assert await fresh.run_once() == 1
    assert await texts(score, ada) == ["Hi Person 0"]
    welcome = next(r for r in await runs_of(score, ada) if r.step_id == "welcome")
    assert welcome.outcome == RunOutcome.sent and welcome.message_id is not None
    assert (await enrolment_of(score, ada)).step_id == "tip"


async def test_a_worker_killed_after_recording_does_not_act_again(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
    hook: Hook,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence(steps=[ping(hook.url), HELLO])
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    worker, run, step = await doomed(score)
    ran = await execute(run, step)
    assert isinstance(ran, Ran)
    await worker._record(run, step, ran)  # killed before the advance
    clock.advance(score.settings.sequence_lease_seconds + 1)
    assert await SequenceWorker(score).run_once() == 1
    assert len(hook.requests) == 1
    assert await texts(score, ada) == ["Hello"]
    assert (await enrolment_of(score, ada)).visits == {"ping": 1, "hello": 1}


async def test_overdue_sends_after_downtime_go_out_through_the_window(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    crowd = await people(5)
    sequence = await make_sequence(steps=[HELLO])
    for who in crowd:
        await enrol(score, workspace_id, sequence.id, who.id, "api")
    clock.advance(3 * 3600)  # the workers were down for three hours
    score.settings = score.settings.model_copy(update={"sequence_outbox_window": 2})
    worker, outbox = SequenceWorker(score), OutboxWorker(score)
    sent_per_pass = []
    for _ in range(4):
        await worker.run_once()
        pending = {"purpose": "marketing", "delivery.status": "pending"}
        sent_per_pass.append(await score.store.messages.count_documents(pending))
        await outbox.run_once()
    assert sent_per_pass == [2, 2, 1, 0]
    for who in crowd:
        assert await texts(score, who) == ["Hello"]


async def test_an_overdue_send_past_its_send_by_is_skipped(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    clock.advance(25 * 3600)  # down for longer than the welcome's send_by (24 h)
    assert await SequenceWorker(score).run_once() == 1
    assert await texts(score, ada) == []
    welcome = next(r for r in await runs_of(score, ada) if r.step_id == "welcome")
    assert (welcome.outcome, welcome.reason) == (RunOutcome.skipped, "send_by_passed")
    waiting = await enrolment_of(score, ada)
    assert waiting.step_id == "tip" and waiting.due_at == clock.now() + timedelta(days=1)
