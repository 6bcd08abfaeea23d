"""Regression (a lost send in `test_killed.py` under heavy machine load: 3,999 messages of
4,000): a template's time backstop counted wall time, so a render thread that a busy machine
left waiting past `MAX_SECONDS` (a fresh worker compiling the template while the loop thread
held the GIL, a loaded host) was refused as too costly, and the send step was recorded as
skipped (`template_error`) for good: the enrolment went on, its message was never stored.
The backstop now counts the render's own CPU time: waiting is not work."""

from __future__ import annotations

import time

import pytest

from kith.broadcasts import templates
from kith.core.context import Core
from kith.sequences.enrol import enrol
from kith.sequences.models import RunOutcome
from kith.sequences.runner import SequenceWorker
from kith.sequences.store import message_id
from tests.sequences.conftest import MakeSequence, People
from tests.sequences.test_runner import enrolment_of, runs_of, texts


class StalledThread:
    """`time` as a render thread sees it on a machine too busy to run it: a second of wall
    time passes between any two of its readings, while its own CPU time moves only with
    the work it does."""

    def __init__(self) -> None:
        self.waited = 0.0

    def monotonic(self) -> float:
        self.waited += 1.0
        return time.monotonic() + self.waited

    def thread_time(self) -> float:
        return time.thread_time()


class BusyThread:
    """`time` as a render that really works a second between two readings sees it."""

    def __init__(self) -> None:
        self.worked = 0.0

    def monotonic(self) -> float:
        return time.monotonic()

    def thread_time(self) -> float:
        self.worked += 1.0
        return time.thread_time() + self.worked


async def test_a_send_step_rendered_on_a_stalled_machine_still_goes_out(
    score: Core,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()  # welcome: "Hi {{ customer.name }}", then a day's wait
    monkeypatch.setattr(templates, "time", StalledThread())
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    assert await SequenceWorker(score).run_once() == 1
    enrolment = await enrolment_of(score, ada)
    (welcome,) = [run for run in await runs_of(score, ada) if run.step_id == "welcome"]
    assert (welcome.outcome, welcome.reason) == (RunOutcome.sent, None)
    assert welcome.message_id == message_id(enrolment.id, "welcome", 1)
    assert await texts(score, ada) == ["Hi Person 0"]


def test_a_render_that_spends_its_time_working_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(templates, "time", BusyThread())
    with pytest.raises(templates.TemplateTooCostly) as caught:
        templates.render("Hi {{ customer.name }}", templates.SAMPLE)
    assert caught.value.code == "template_too_costly"
    assert caught.value.field == "text"
