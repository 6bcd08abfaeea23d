"""Four sequence workers, each its own OS process on the real engine, run 2,000 enrolments
through send → wait → send → tag while one of them is SIGKILLed at random about every 2 s
and replaced: every step runs exactly once for every enrolment (one outbound message per
enrolment and send step, under the id derived from them; one recorded run per step) and
every enrolment completes.

Time: the processes share a `FileClock` (`tests.support.shared_clock`): the moment is in a
file that every worker reads on each `now()` and only this test writes. Nothing waits for
real time to pass: after each kill the test moves the clock by `TICK`, so a claim's lease
runs out six kills after it was taken, whether its worker died (its claims come back) or is
merely slow (another worker takes them over: exactly-once must survive that too), and the
one-minute wait ends on that clock. The real seconds between kills only pace the kills.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel
from kith.courtesy.settings import CourtesySettings, save_settings
from kith.sequences.actions import do_create_sequence, move
from kith.sequences.feature import feature
from kith.sequences.models import SequenceIn, Status
from kith.sequences.store import enrolments, message_id, run_id, runs
from tests.conftest import REAL_URI
from tests.support.cast import api_channel
from tests.support.crowd import customers_on, enrol_all
from tests.support.processes import WorkerPool
from tests.support.shared_clock import ENV as CLOCK_ENV
from tests.support.shared_clock import FileClock

# Long: see the module docstring for how long it takes on the loaded 2-core build machine.
pytestmark = [pytest.mark.realdb, pytest.mark.timeout(1500)]

ENROLMENTS = 2_000
WORKERS = 4
LEASE = 60.0
TICK = 10.0  # clock seconds per kill: a claim outlives six kills (about 12 s of real time)
KILL_EVERY = (1.5, 2.5)  # real seconds between two kills
KILL_PHASE = 1200.0  # real seconds of kills at most; then the survivors finish
FINISH = 1320.0  # real seconds the whole run may take
SENDS = ("welcome", "tip")
STEPS = ("welcome", "pause", "tip", "mark")
BODY = {
    "name": "Killed",
    "channels": ["api"],
    "steps": [
        {"id": "welcome", "type": "send", "message": {"text": {"en": "Hi {{ customer.name }}"}}},
        {"id": "pause", "type": "wait", "duration": "PT1M"},
        {"id": "tip", "type": "send", "message": {"text": {"en": "A tip"}}},
        {"id": "mark", "type": "tag", "tag": "nurtured"},
    ],
}


@pytest.fixture
async def shared(core: Core, tmp_path: Path) -> FileClock:
    """The suite's Core on the shared clock at noon, sequences installed, courtesy relaxed
    (no quiet hours, no daily cap: this test is about claims, not courtesy)."""
    start = core.clock.now() + timedelta(hours=12)
    core.clock = clock = FileClock(tmp_path / "clock", start)
    install(core, [feature(core)])
    await core.start()
    return clock


@pytest.fixture
async def channel(core: Core, shared: FileClock, workspace_id: str) -> Channel:
    relaxed = CourtesySettings.model_validate({"quiet_start": "00:00", "quiet_end": "00:00"})
    await save_settings(core, workspace_id, relaxed.model_copy(update={"daily_cap": None}))
    return (await api_channel(core, workspace_id))[0]


@pytest.fixture
async def pool(core: Core, shared: FileClock, tmp_path: Path) -> AsyncIterator[WorkerPool]:
    settings = core.settings
    env = {
        "KITH_MONGO_URI": REAL_URI or "",
        "KITH_DB_NAME": settings.db_name,
        "KITH_SECRET_KEY": settings.secret_key or "",
        "KITH_EGRESS_ALLOW": settings.egress_allow or "",
        "KITH_LOG_LEVEL": "WARNING",
        "KITH_SEQUENCE_LEASE_SECONDS": str(LEASE),
        "KITH_SEQUENCE_BATCH": "10",
        "KITH_SEQUENCE_POLL_SECONDS": "0.2",
        "KITH_SEQUENCE_OUTBOX_WINDOW": str(10 * ENROLMENTS),  # no outbox runs here
        CLOCK_ENV: str(shared.path),
    }
    workers = WorkerPool(
        WORKERS,
        "kith.sequences.runner:SequenceWorker",
        ["kith.sequences.feature:feature"],
        env,
        tmp_path / "workers.log",
    )
    try:
        yield workers
    finally:
        await workers.stop()


async def left(core: Core) -> int:
    return await enrolments(core).count_documents({"state": "active"})


async def test_four_processes_killed_at_random_run_every_step_exactly_once(
    core: Core, shared: FileClock, channel: Channel, pool: WorkerPool, workspace_id: str
) -> None:
    sequence = await do_create_sequence(core, workspace_id, SequenceIn.model_validate(BODY))
    sequence = await move(core, workspace_id, sequence.id, Status.active)
    customers = await customers_on(core, channel, ENROLMENTS)
    enrolled = await enrol_all(core, sequence, customers, shared.now())

    loop = asyncio.get_running_loop()
    started = loop.time()
    rng = random.Random(16)  # noqa: S311 (which worker dies, not cryptography)
    await pool.start()
    while await left(core) and loop.time() - started < KILL_PHASE:
        await asyncio.sleep(rng.uniform(*KILL_EVERY))
        pool.check_alive()
        await pool.kill_one(rng)
        shared.advance(TICK)  # claims of the dead come back after a few kills; waits move on
    while await left(core) and loop.time() - started < FINISH:
        await asyncio.sleep(0.5)
        pool.check_alive()
        shared.advance(TICK / 4)
    await pool.stop()

    assert pool.kills >= 5
    assert await left(core) == 0
    states = await enrolments(core).distinct("state", {"sequence_id": sequence.id})
    assert states == ["completed"]
    recorded = await runs(core).find({}, {"outcome": 1, "step_id": 1, "reason": 1}).to_list()
    # A send step that did not send says why first (a skip names its reason), before the
    # message count that would only say one is missing.
    unsent = [r for r in recorded if r["step_id"] in SENDS and r["outcome"] != "sent"]
    assert unsent == []
    sent = await core.store.messages.find({"purpose": "marketing"}, {"_id": 1}).to_list()
    expected = {message_id(e, step, 1) for e in enrolled for step in SENDS}
    assert len(sent) == len(expected) == ENROLMENTS * len(SENDS)
    assert {m["_id"] for m in sent} == expected
    assert len(recorded) == ENROLMENTS * len(STEPS)
    assert {r["_id"] for r in recorded} == {run_id(e, s, 1) for e in enrolled for s in STEPS}
    tagged = await core.store.customers.count_documents({"tags": "nurtured"})
    assert tagged == ENROLMENTS
