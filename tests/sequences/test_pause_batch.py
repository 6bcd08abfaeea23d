"""Pausing a sequence while three workers are in the middle of their step batches.

What the runner promises (`kith.sequences.runner`, `kith.sequences.steps.Run.still_on`): a
paused sequence's enrolments are not claimed, and a send reads the sequence's status right
before it goes out. So once the pause is written, a send can still go out only for an
enrolment claimed before it that had already passed that check; every other claimed
enrolment is handed back at its step, without a recorded run, and goes on after the resume.
A batch's checks are one grouped read (`kith.core.group_commit`), so the pause here lands
right before the first send of one worker's pass reaches the database, while the other two
workers, whose batches were claimed first, wait (at their batch's customer read) until the
pause is written.
The test asserts exactly that: each send stored after the
pause was made under a claim taken before the pause began (claims are noted as the workers
write them), some claimed enrolments were handed back unsent, passes of every worker claim
and send nothing while paused as the clock moves, and after the resume every step runs
exactly once for every enrolment (a worker sees a resume within `REREAD` on its clock).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from kith.core.context import Core
from kith.core.features import Feature
from kith.sequences.actions import move
from kith.sequences.feature import feature
from kith.sequences.models import Status
from kith.sequences.runner import REREAD, SequenceWorker
from kith.sequences.store import enrolments, message_id, run_id, runs
from tests.sequences.conftest import MakeSequence
from tests.support.cast import api_channel
from tests.support.crowd import customers_on, enrol_all
from tests.support.faults import racing
from tests.support.processes import cores_like

ENROLMENTS = 30
HOUR = 3600.0
DAY = 24 * HOUR


def sequences_only(core: Core) -> list[Feature]:
    return [feature(core)]


async def marketing_ids(core: Core) -> set[str]:
    found = await core.store.messages.find({"purpose": "marketing"}, {"_id": 1}).to_list()
    return {m["_id"] for m in found}


class BatchReads:
    """A pass reads its batch's customers in one `$in` read (`kith.courtesy.facts`), after
    its claim. Here each such read waits for `opened` unless one was let through (`let_one`),
    so the test decides which claimed passes go on before the pause and which after."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.waiting = 0
        self.arrived = asyncio.Event()
        self.let = 0

    def let_one(self) -> None:
        self.let += 1

    async def wait_for(self, n: int) -> None:
        while self.waiting < n:
            self.arrived.clear()
            await self.arrived.wait()

    def gated(self, cursor: Any) -> Any:
        if self.let:
            self.let -= 1
            return cursor
        return Gated(cursor, self)


class Gated:
    def __init__(self, cursor: Any, reads: BatchReads) -> None:
        self.cursor = cursor
        self.reads = reads

    async def to_list(self, *args: Any) -> Any:
        self.reads.waiting += 1
        self.reads.arrived.set()
        await self.reads.opened.wait()
        return await self.cursor.to_list(*args)


@contextlib.contextmanager
def batch_reads(collections: list[Any], reads: BatchReads) -> Iterator[None]:
    """Route the batch customer reads of these collections (several processes' clients, or
    one shared client's) through `reads`."""
    unique = list({id(c): c for c in collections}.values())
    originals = [c.find for c in unique]

    def gated(original: Any) -> Any:
        def find(*args: Any, **kwargs: Any) -> Any:
            cursor = original(*args, **kwargs)
            batch = len(args) == 1 and isinstance(args[0].get("_id"), dict)
            return reads.gated(cursor) if batch else cursor

        return find

    for collection, original in zip(unique, originals, strict=True):
        collection.find = gated(original)
    try:
        yield
    finally:
        for collection, original in zip(unique, originals, strict=True):
            collection.find = original


@contextlib.contextmanager
def recording_claims(
    collection: Any, claims: dict[str, bool], paused: asyncio.Event
) -> Iterator[None]:
    """Note each claim's token as the worker writes it, and whether the pause had begun."""
    original = collection.update_many

    async def update_many(query: Any, update: Any, *args: Any, **kwargs: Any) -> Any:
        token = update.get("$set", {}).get("claim")
        if token:
            claims.setdefault(token, not paused.is_set())
        return await original(query, update, *args, **kwargs)

    collection.update_many = update_many
    try:
        yield
    finally:
        collection.update_many = original


async def passes(workers: list[SequenceWorker]) -> int:
    return sum(await asyncio.gather(*(w.run_once() for w in workers)))


async def test_a_pause_mid_batch_sends_only_what_was_claimed_and_resumes_exactly_once(
    score: Core, workspace_id: str, make_sequence: MakeSequence
) -> None:
    score.settings.sequence_batch = 10
    channel = (await api_channel(score, workspace_id, name="Pause"))[0]
    sequence = await make_sequence()
    customers = await customers_on(score, channel, ENROLMENTS)
    enrolled = await enrol_all(score, sequence, customers, score.clock.now())
    sent_before: set[str] = set()
    claims: dict[str, bool] = {}  # claim token → taken before the pause began
    paused = asyncio.Event()

    reads = BatchReads()

    async def pause() -> None:
        if paused.is_set():  # once, before the first send of whichever worker
            return
        paused.set()
        sent_before.update(await marketing_ids(score))
        await move(score, workspace_id, sequence.id, Status.paused)
        reads.opened.set()

    async with cores_like(score, 3, sequences_only) as cores:
        workers = [SequenceWorker(c, owner=f"w{n}") for n, c in enumerate(cores)]
        with contextlib.ExitStack() as stack:
            stack.enter_context(batch_reads([c.store.customers for c in cores], reads))
            for other in cores:
                stack.enter_context(racing(other.store.messages, "bulk_write", pause))
                stack.enter_context(recording_claims(enrolments(other), claims, paused))
            waiting = []
            for n, worker in enumerate(workers[1:], start=1):  # claim, then wait
                waiting.append(asyncio.create_task(worker.run_once()))
                await reads.wait_for(n)
            reads.let_one()
            await workers[0].run_once()  # claims the rest; its first send lets the pause in
            await asyncio.gather(*waiting)

        sent = await marketing_ids(score)
        after = sent - sent_before
        assert after, "the send the pause overtook goes out (it had passed its check)"
        docs = {d["_id"]: d for d in await enrolments(score).find({}).to_list()}
        senders = {e for e in docs if message_id(e, "welcome", 1) in after}
        assert len(senders) == len(after)
        assert all(claims[docs[e]["claim"]] for e in senders), "claimed after the pause"
        held = [
            e
            for e, d in docs.items()
            if d.get("claim") and claims[d["claim"]] and message_id(e, "welcome", 1) not in sent
        ]
        assert held, "the pause caught claimed enrolments before their send"
        for e, doc in docs.items():
            if message_id(e, "welcome", 1) in sent:
                assert doc["step_id"] == "tip"  # sent, then waiting a day
            else:  # handed back (or never claimed): at its step, no run, no lease
                assert (doc["step_id"], doc.get("visits"), doc["lease_until"]) == (
                    "welcome",
                    {},
                    None,
                )
                assert await runs(score).count_documents({"enrolment_id": e}) == 0

        for _ in range(3):  # paused: as time moves, nothing is claimed or sent
            score.clock.advance(2 * HOUR)  # (past the send's 24-hour `send_by` it would skip)
            assert await passes(workers) == 0
        assert await marketing_ids(score) == sent

        await move(score, workspace_id, sequence.id, Status.active)
        score.clock.advance(REREAD.total_seconds())  # workers see a resume within this
        for _ in range(4):
            while await passes(workers):
                pass
            score.clock.advance(DAY)

    states = await enrolments(score).distinct("state", {"sequence_id": sequence.id})
    assert states == ["completed"]
    outcomes = await runs(score).distinct("outcome", {"step_id": {"$in": ["welcome", "tip"]}})
    assert outcomes == ["sent"]
    expected = {message_id(e, s, 1) for e in enrolled for s in ("welcome", "tip")}
    assert await marketing_ids(score) == expected
    recorded = {r["_id"] for r in await runs(score).find({}, {"_id": 1}).to_list()}
    steps = ("welcome", "pause", "tip")
    assert recorded == {run_id(e, s, 1) for e in enrolled for s in steps}
