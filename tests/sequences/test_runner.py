"""The sequence runner: steps run in order, waits are data, sends obey the courtesy rules,
and a run is recorded once whatever crashes in between."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.models import Channel, ConsentState, Customer, InboundUser
from kith.core.pipeline import ingest
from kith.core.teams import create_team
from kith.courtesy.settings import CourtesySettings, save_settings
from kith.sequences.actions import do_update_sequence, move
from kith.sequences.enrol import enrol
from kith.sequences.models import (
    Enrolment,
    EnrolmentState,
    RunOutcome,
    SequenceIn,
    Status,
    StepRun,
)
from kith.sequences.runner import SequenceWorker
from kith.sequences.store import enrolments, runs
from tests.sequences.conftest import WELCOME, MakeSequence, People
from tests.support.cast import inbound

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


async def test_a_send_in_quiet_hours_is_held_until_they_end(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    clock.advance(10 * 3600)  # 22:00 UTC: quiet until 09:00
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    worker = SequenceWorker(score)
    assert await worker.run_once() == 0
    held = await enrolment_of(score, ada)
    morning = clock.now().replace(hour=9) + timedelta(days=1)
    assert held.step_id == "welcome" and held.due_at == morning and not held.visits
    assert await texts(score, ada) == []
    clock.advance(11 * 3600)
    assert await worker.run_once() == 1
    assert await texts(score, ada) == ["Hi Person 0"]


async def test_the_daily_cap_counts_across_sequences(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    await save_settings(score, workspace_id, CourtesySettings(daily_cap=1))
    first = await make_sequence(name="One")
    second = await make_sequence(name="Two")
    for sequence in (first, second):
        await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 2
    assert len(await texts(score, ada)) == 1
    welcomes = [r for r in await runs_of(score, ada) if r.step_id == "welcome"]
    assert sorted((r.outcome, r.reason) for r in welcomes) == [
        (RunOutcome.sent, None),
        (RunOutcome.skipped, "frequency_cap"),
    ]
    # A skipped send does not hold the journey up: both wait for their tip.
    async for doc in enrolments(score).find({"customer_id": ada.id}):
        assert doc["step_id"] == "tip"


async def test_a_send_without_consent_is_skipped_and_the_journey_goes_on(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    revoked = {"consent.api": {"state": ConsentState.revoked.value, "at": score.clock.now()}}
    await score.store.customers.update_one({"_id": ada.id}, {"$set": revoked})
    assert await SequenceWorker(score).run_once() == 1
    assert await texts(score, ada) == []
    welcome = next(r for r in await runs_of(score, ada) if r.step_id == "welcome")
    assert (welcome.outcome, welcome.reason) == (RunOutcome.skipped, "no_consent")
    assert (await enrolment_of(score, ada)).step_id == "tip"


BRANCHY: list[dict[str, Any]] = [
    {"id": "ask", "type": "branch", "then": "vip", "else": "plain"},
    {"id": "plain", "type": "send", "message": {"text": {"en": "Hello"}}},
    {"id": "stop", "type": "end"},
    {"id": "vip", "type": "send", "message": {"text": {"en": "Hello, VIP"}}},
]


async def test_a_branch_on_a_filter_reads_the_customer(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    ada, bob = await people(2)
    vip = {"field": "tags", "op": "contains", "value": "vip"}
    steps = [{**BRANCHY[0], "filter": vip}, *BRANCHY[1:]]
    sequence = await make_sequence(steps=steps)
    await score.store.customers.update_one({"_id": ada.id}, {"$set": {"tags": ["vip"]}})
    for who in (ada, bob):
        await enrol(score, workspace_id, sequence.id, who.id, "api")
    assert await SequenceWorker(score).run_once() == 2
    assert await texts(score, ada) == ["Hello, VIP"]
    assert await texts(score, bob) == ["Hello"]
    for who in (ada, bob):
        assert (await enrolment_of(score, who)).state == EnrolmentState.completed


async def test_a_branch_on_replied_reads_the_enrolment(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    ada, bob = await people(2)
    branchy = [{**BRANCHY[0], "since": "replied"}, *BRANCHY[1:]]
    sequence = await make_sequence(steps=branchy, stop_on_reply=False)  # else never taken
    for who in (ada, bob):
        await enrol(score, workspace_id, sequence.id, who.id, "api")
    replied = {"replied_at": score.clock.now()}
    await enrolments(score).update_one({"customer_id": ada.id}, {"$set": replied})
    assert await SequenceWorker(score).run_once() == 2
    assert await texts(score, ada) == ["Hello, VIP"]
    assert await texts(score, bob) == ["Hello"]
    ask = next(r for r in await runs_of(score, ada) if r.step_id == "ask")
    assert (ask.step_id, ask.reason, ask.next_step_id) == ("ask", "then", "vip")


async def test_tag_untag_and_set_attribute_go_through_the_customer_action(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    await score.store.customers.update_one({"_id": ada.id}, {"$set": {"tags": ["lead"]}})
    steps = [
        {"id": "mark", "type": "tag", "tag": "nurtured"},
        {"id": "unmark", "type": "untag", "tag": "lead"},
        {"id": "level", "type": "set_attribute", "key": "stage", "value": "warm"},
    ]
    sequence = await make_sequence(steps=steps)
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1
    doc = await score.store.customers.find_one({"_id": ada.id})
    assert doc is not None
    assert doc["tags"] == ["nurtured"] and doc["attributes"]["stage"] == "warm"
    updates = score.store.events.find({"customer_id": ada.id, "type": "customer.updated"})
    assert len([e async for e in updates]) == 3  # one event per change: segments react
    assert (await enrolment_of(score, ada)).state == EnrolmentState.completed


async def test_a_goal_step_counts_the_conversion_and_stops_the_enrolment(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    steps = [
        {"id": "won", "type": "goal"},
        {"id": "never", "type": "send", "message": {"text": {"en": "never sent"}}},
    ]
    sequence = await make_sequence(steps=steps)
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1
    stopped = await enrolment_of(score, ada)
    assert (stopped.state, stopped.reason) == (EnrolmentState.stopped, "goal")
    assert stopped.converted_at == score.clock.now()
    (won,) = await runs_of(score, ada)
    assert won.step_id == "won" and won.converted_at == score.clock.now()
    assert await texts(score, ada) == []


async def test_an_end_step_completes_the_enrolment(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    steps = [
        {"id": "hello", "type": "send", "message": {"text": {"en": "Hello"}}},
        {"id": "stop", "type": "end"},
        {"id": "never", "type": "send", "message": {"text": {"en": "never sent"}}},
    ]
    sequence = await make_sequence(steps=steps)
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1
    done = await enrolment_of(score, ada)
    assert done.state == EnrolmentState.completed and done.step_id is None
    assert await texts(score, ada) == ["Hello"]
    assert sorted(r.step_id for r in await runs_of(score, ada)) == ["hello", "stop"]


async def test_notify_team_leaves_a_note_in_the_latest_conversation(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    sales = await create_team(score, workspace_id, "Sales")
    steps = [{"id": "tell", "type": "notify_team", "team_id": sales.id, "text": "Ada is onboarded"}]
    sequence = await make_sequence(steps=steps)
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    worker = SequenceWorker(score)
    assert await worker.run_once() == 1
    notes = await score.store.messages.find({"customer_id": ada.id, "private": True}).to_list()
    assert [n["text"] for n in notes] == ["Ada is onboarded"]
    latest = await score.store.conversations.find_one({"customer_id": ada.id})
    assert latest is not None and notes[0]["conversation_id"] == latest["_id"]
    assert latest["team_id"] == sales.id  # handed to the team, so its agents see the note
    (tell,) = await runs_of(score, ada)
    assert notes[0]["_id"] == derived_id("sequence-note", tell.id)


async def test_notify_team_skips_a_team_gone_since_the_sequence_was_saved(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    (ada,) = await people(1)
    sales = await create_team(score, workspace_id, "Sales")
    steps = [
        {"id": "tell", "type": "notify_team", "team_id": sales.id, "text": "Ada is onboarded"},
        {"id": "hello", "type": "send", "message": {"text": {"en": "Hello"}}},
    ]
    sequence = await make_sequence(steps=steps)
    await score.store.teams.delete_one({"_id": sales.id})
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1
    tell, hello = sorted(await runs_of(score, ada), key=lambda r: r.step_id != "tell")
    assert (tell.outcome, tell.reason) == (RunOutcome.skipped, "unknown_team")
    assert hello.outcome != RunOutcome.skipped and await texts(score, ada) == ["Hello"]
    assert await score.store.messages.count_documents({"private": True}) == 0
    assert (await enrolment_of(score, ada)).state == EnrolmentState.completed


async def test_an_enrolment_on_v1_finishes_v1_after_v2_is_saved(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    ada, bob = await people(2)
    sequence = await make_sequence()
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    worker = SequenceWorker(score)
    await worker.run_once()
    edited = {**WELCOME, "steps": [*WELCOME["steps"][:2], TIP_V2]}
    await do_update_sequence(score, workspace_id, sequence.id, SequenceIn.model_validate(edited))
    await enrol(score, workspace_id, sequence.id, bob.id, "api")
    await worker.run_once()
    clock.advance(DAY)
    assert await worker.run_once() == 2
    assert await texts(score, ada) == ["Hi Person 0", "A tip"]
    assert await texts(score, bob) == ["Hi Person 1", "A better tip"]


TIP_V2 = {"id": "tip", "type": "send", "message": {"text": {"en": "A better tip"}}}


async def test_a_wait_until_a_time_is_in_the_customers_zone(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    (ada,) = await people(1)
    await score.store.customers.update_one({"_id": ada.id}, {"$set": {"timezone": "Asia/Shanghai"}})
    steps = [
        {"id": "morning", "type": "wait", "until": {"time": "09:30"}},
        {"id": "hello", "type": "send", "message": {"text": {"en": "Good morning"}}},
    ]
    sequence = await make_sequence(steps=steps)
    await enrol(score, workspace_id, sequence.id, ada.id, "api")  # 12:00 UTC, 20:00 there
    worker = SequenceWorker(score)
    await worker.run_once()
    waiting = await enrolment_of(score, ada)
    assert waiting.due_at == clock.now().replace(hour=1, minute=30) + timedelta(days=1)
    clock.advance(13.5 * 3600)
    assert await worker.run_once() == 1
    assert await texts(score, ada) == ["Good morning"]


async def test_a_branch_back_over_a_wait_runs_each_visit_once(
    score: Core,
    clock: ManualClock,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    """Each visit of a step is its own run (and its own message id)."""
    (ada,) = await people(1)
    steps = [
        {"id": "nudge", "type": "send", "message": {"text": {"en": "Still there?"}}},
        {"id": "pause", "type": "wait", "duration": "PT2H"},
        {"id": "again", "type": "branch", "since": "replied", "then": "done", "else": "nudge"},
        {"id": "done", "type": "end"},
    ]
    sequence = await make_sequence(steps=steps, stop_on_reply=False)  # else never taken
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    worker = SequenceWorker(score)
    await worker.run_once()
    clock.advance(2 * 3600)
    await worker.run_once()  # not replied: nudged again
    replied = {"replied_at": clock.now()}
    await enrolments(score).update_one({"customer_id": ada.id}, {"$set": replied})
    clock.advance(2 * 3600)
    await worker.run_once()
    assert await texts(score, ada) == ["Still there?", "Still there?"]
    done = await enrolment_of(score, ada)
    assert done.state == EnrolmentState.completed
    assert done.visits == {"nudge": 2, "pause": 2, "again": 2, "done": 1}


async def test_a_paused_sequence_does_not_hold_up_an_active_one(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    crowd = await people(4)
    paused = await make_sequence(name="Paused", steps=[HELLO])
    for who in crowd[:3]:
        await enrol(score, workspace_id, paused.id, who.id, "api")
    await move(score, workspace_id, paused.id, Status.paused)
    running = await make_sequence(name="Running", steps=[HELLO])
    await enrol(score, workspace_id, running.id, crowd[3].id, "api")
    score.settings = score.settings.model_copy(update={"sequence_batch": 2})
    assert await SequenceWorker(score).run_once() == 1
    assert await texts(score, crowd[3]) == ["Hello"]
    for who in crowd[:3]:
        assert await texts(score, who) == []


HELLO = {"id": "hello", "type": "send", "message": {"text": {"en": "Hello"}}}


async def test_a_customer_without_a_locale_who_writes_chinese_gets_the_chinese_text(
    score: Core,
    clock: ManualClock,
    channel: Channel,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
) -> None:
    """`kith.core.languages`: the profile's locale, else the customer's latest message (read
    once for the worker's batch)."""
    quiet, writer = await people(2)  # no locale; each wrote "hi"
    clock.advance(60)
    user = InboundUser(id="c-00001", name="Person 1")
    await ingest(score, channel, inbound(channel, user=user, text="我想退货"))
    bilingual = {"en": "Hi {{ customer.name }}", "zh": "你好 {{ customer.name }}"}
    steps = [{"id": "welcome", "type": "send", "message": {"text": bilingual}}]
    sequence = await make_sequence(steps=steps)
    for customer in (quiet, writer):
        await enrol(score, workspace_id, sequence.id, customer.id, "api")
    assert await SequenceWorker(score).run_once() == 2
    assert await texts(score, quiet) == ["Hi Person 0"]
    assert await texts(score, writer) == ["你好 Person 1"]
