"""Regression (h35's reading of the runner): a claimer's lease ran from the moment its pass
began, so a claimer stalled between finding the due enrolments and writing its claim (a
busy machine, a slow server) wrote a lease that had already run out, and another worker
could take the same enrolment at once. The lease now runs from the write."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.sequences.enrol import enrol
from kith.sequences.runner import SequenceWorker
from tests.sequences.conftest import MakeSequence, People
from tests.sequences.test_runner import enrolment_of


class StallsOnce(ManualClock):
    """A clock whose reading after the next one comes `seconds` later: the claimer stalls
    between its first reading and its second."""

    def __init__(self) -> None:
        super().__init__()
        self.stall_in: int | None = None
        self.stall = 0.0

    def stall_after_next_read(self, seconds: float) -> None:
        self.stall_in, self.stall = 2, seconds

    def now(self) -> datetime:
        if self.stall_in is not None:
            self.stall_in -= 1
            if self.stall_in == 0:
                self.stall_in = None
                self.advance(self.stall)
        return super().now()


@pytest.fixture
def clock() -> StallsOnce:
    return StallsOnce()


async def test_a_stalled_claimer_still_holds_its_lease_when_it_acts(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence, clock: StallsOnce
) -> None:
    (ada,) = await people(1)
    sequence = await make_sequence()
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    worker = SequenceWorker(score)
    lease = worker.lease.total_seconds()
    clock.stall_after_next_read(lease + 1)
    (claim,) = await worker._claim()
    held = await enrolment_of(score, ada)
    assert claim.enrolment.id == held.id
    assert held.lease_until is not None and held.lease_owner == worker.owner
    assert held.lease_until - clock.now() == timedelta(seconds=lease)
