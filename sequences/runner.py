"""The sequence worker: every `kith serve` process runs one.

A pass claims a bounded batch of due enrolments (state active, `due_at` passed, not leased,
of an active sequence) with a claim token and a lease written into each, found by one range
over the `(state, due_at, …)` index: a pass costs the due steps, not the enrolments. Each
claimed enrolment then runs its due step and every instant step after it (tag, branch, send
…) until a `wait` puts its next step in the future; `kith.sequences.steps` holds what each
step does.

Exactly once: a run's id is derived from (enrolment, step, visit). The runner records the
run (insert-once) and then advances the enrolment in one update conditional on its claim,
state, step and visit count. A worker killed between acting and recording leaves its lease to
expire; the next claimer sees the expired lease, finds the recorded run (and advances from
it) or a send's message stored under the run's message id (and records it as sent): nothing
happens twice. A stop (`kith.sequences.stops`) is a conditional update from active, so it wins
over a claim; sends re-read the state and the sequence's status right before going out.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.ids import new_id
from kith.core.languages import customer_languages
from kith.core.leases import unleased, worker_owner
from kith.core.waiting import wait_any
from kith.courtesy.facts import Facts
from kith.courtesy.window import Window
from kith.sequences.models import (
    MAX_STEPS,
    Enrolment,
    EnrolmentState,
    GoalStep,
    SequenceVersion,
    Status,
    Step,
    StepRun,
    StopReason,
)
from kith.sequences.steps import Later, Ran, Run, execute
from kith.sequences.stops import stop_one
from kith.sequences.store import ENROLMENTS, RUNS, enrolments, get_version, run_id, sequences

log = logging.getLogger(__name__)
ACTIVE = EnrolmentState.active.value
REREAD = timedelta(seconds=5)  # how often the list of paused sequences is read again


@dataclass(frozen=True)
class Batch:
    """What one pass's enrolments share: the courtesy facts and the customers' languages read
    for them all at once, and the room left in the outbox."""

    facts: Facts
    window: Window
    languages: dict[str, str | None]


async def _languages(core: Core, facts: Facts) -> dict[str, str | None]:
    """The batch's customers' languages (`kith.core.languages`), from the customers the
    facts read: one query more for the batch, for those without a locale."""
    locales = {c: (doc or {}).get("locale") for c, doc in facts.customers.items()}
    return await customer_languages(core, locales)


@dataclass
class Claim:
    enrolment: Enrolment
    token: str
    # Its lease had run out under another worker: that worker may have acted and died before
    # recording, so the first step looks for a recorded run before acting.
    retried: bool


class SequenceWorker:
    def __init__(self, core: Core, owner: str | None = None) -> None:
        self.core = core
        self.owner = worker_owner(owner)
        settings = core.settings
        self.batch = settings.sequence_batch
        self.window_size = settings.sequence_outbox_window
        self.lease = timedelta(seconds=settings.sequence_lease_seconds)
        self.poll = settings.sequence_poll_seconds
        self._versions: dict[tuple[str, int], SequenceVersion] = {}
        self._left_out_ids: set[str] = set()
        self._left_out_at: datetime | None = None

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                advanced = await self.run_once()
            except Exception:
                log.exception("sequence pass failed")
                advanced = 0
            if not advanced:
                await wait_any((stop,), self.poll)

    async def run_once(self) -> int:
        """Claim one batch of due enrolments and run them; how many moved on."""
        claims = await self._claim()
        if not claims:
            return 0
        facts = await self._facts(claims)
        batch = Batch(
            facts, Window(self.core, self.window_size), await _languages(self.core, facts)
        )
        for claim in claims:
            await self._version(claim.enrolment)  # read here once, not by every one at once
        moved = await asyncio.gather(*(self._handle(claim, batch) for claim in claims))
        return sum(moved)

    async def _facts(self, claims: list[Claim]) -> Facts:
        return await Facts.read(
            self.core,
            [c.enrolment.customer_id for c in claims],
            {c.enrolment.workspace_id for c in claims},
        )

    async def _left_out(self, now: datetime) -> list[str]:
        """Paused and archived sequences, whose enrolments are not claimed. Read again every
        `REREAD` (a resume takes effect within it), so an idle pass is one query."""
        if self._left_out_at is None or now - self._left_out_at >= REREAD:
            stopped = [Status.paused.value, Status.archived.value]
            found = await sequences(self.core).distinct("_id", {"status": {"$in": stopped}})
            self._left_out_ids = set(found)
            self._left_out_at = now
        return sorted(self._left_out_ids)

    async def _claim(self) -> list[Claim]:
        now = self.core.clock.now()
        due: dict[str, Any] = {"state": ACTIVE, "due_at": {"$lte": now}, **unleased(now)}
        left_out = await self._left_out(now)
        if left_out:
            due["sequence_id"] = {"$nin": left_out}
        rows = enrolments(self.core)
        projection = {"lease_until": 1, "sequence_id": 1}
        cursor = rows.find(due, projection, sort=[("due_at", 1)], limit=self.batch)
        found = {doc["_id"]: doc async for doc in cursor}
        if not found:
            return []
        # The status of each sequence in the batch, read now: a pause is seen at once.
        inactive = await self._inactive({doc["sequence_id"] for doc in found.values()})
        ids = [i for i, doc in found.items() if doc["sequence_id"] not in inactive]
        if not ids:
            return []
        token = new_id()
        # The lease runs from the write, not from the pass's start: a claimer stalled in
        # its reads would otherwise write a lease already run out (and another take it too).
        until = self.core.clock.now() + self.lease
        lease = {"lease_until": until, "lease_owner": self.owner, "claim": token}
        await rows.update_many({**due, "_id": {"$in": ids}}, {"$set": lease})
        won = await rows.find({"_id": {"$in": ids}, "claim": token}).to_list()
        return [
            Claim(Enrolment.from_doc(d), token, found[d["_id"]].get("lease_until") is not None)
            for d in won
        ]

    async def _inactive(self, sequence_ids: set[str]) -> set[str]:
        """Which of these sequences are not active now (left out until the next re-read)."""
        cursor = sequences(self.core).find({"_id": {"$in": sorted(sequence_ids)}}, {"status": 1})
        active = {doc["_id"] async for doc in cursor if doc.get("status") == Status.active.value}
        inactive = sequence_ids - active
        self._left_out_ids |= inactive
        return inactive

    async def _version(self, enrolment: Enrolment) -> SequenceVersion:
        """Versions are frozen once run, so each is read once per worker."""
        key = (enrolment.sequence_id, enrolment.version)
        if key not in self._versions:
            self._versions[key] = await get_version(self.core, *key)
        return self._versions[key]

    async def _handle(self, claim: Claim, batch: Batch) -> bool:
        try:
            return await self._drive(claim, batch)
        except Exception:
            # Left to its lease: a later pass (here or elsewhere) takes it again.
            log.exception("sequence enrolment failed", extra={"enrolment": claim.enrolment.id})
            return False

    async def _drive(self, claim: Claim, batch: Batch) -> bool:
        """Run the due step and the instant steps after it; whether the enrolment moved."""
        enrolment = claim.enrolment
        version = await self._version(enrolment)
        look_first = claim.retried
        moved = False
        for _ in range(2 * MAX_STEPS):
            step = version.step(enrolment.step_id) if enrolment.step_id else None
            if step is None:  # past the last step (or one its version lacks): done
                return await self._complete(claim, enrolment) or moved
            visit = enrolment.visits.get(step.id, 0) + 1
            now = self.core.clock.now()
            rid = run_id(enrolment.id, step.id, visit)
            retried, look_first = look_first, False
            run = await self._recorded(rid) if retried else None
            if run is None:
                context = Run(
                    self.core,
                    enrolment,
                    version,
                    claim.token,
                    visit,
                    rid,
                    now,
                    batch.window,
                    batch.facts,
                    retried,
                    batch.languages,
                )
                result = await execute(context, step)
                if isinstance(result, Later):
                    await self._later(claim, enrolment, result)
                    return moved
                run = await self._record(context, step, result)
            if isinstance(step, GoalStep):  # converted: the run counts it, the stop ends it
                return await stop_one(self.core, enrolment, StopReason.goal) or moved
            after = await self._advance(claim, enrolment, step, visit, run)
            if after is None:  # stopped meanwhile, or the claim was lost: leave it
                return moved
            moved = True
            if after.state != EnrolmentState.active or after.due_at is None:
                return True
            if after.due_at > self.core.clock.now():
                return True
            enrolment = after
        await self._later(claim, enrolment, Later(None, "too_many_steps"))
        return moved

    async def _recorded(self, rid: str) -> StepRun | None:
        doc = await self.core.store.grouped(RUNS).find_one({"_id": rid})
        return StepRun.from_doc(doc) if doc else None

    async def _record(self, context: Run, step: Step, ran: Ran) -> StepRun:
        """Insert the run once; a run recorded meanwhile (a racing retry) is the one kept."""
        enrolment = context.enrolment
        run = StepRun(
            id=context.run_id,
            workspace_id=enrolment.workspace_id,
            sequence_id=enrolment.sequence_id,
            version=enrolment.version,
            enrolment_id=enrolment.id,
            customer_id=enrolment.customer_id,
            step_id=step.id,
            visit=context.visit,
            type=step.type,
            outcome=ran.outcome,
            reason=ran.reason,
            message_id=ran.message_id,
            at=context.now,
            next_step_id=ran.next_step_id,
            next_due_at=ran.next_due_at,
            converted_at=context.now if isinstance(step, GoalStep) else None,
        )
        try:  # with the batch's other runs, in one insert (`kith.core.group_commit`)
            await self.core.store.grouped(RUNS).write(InsertOne(run.to_doc()))
        except DuplicateKeyError:
            return await self._recorded(run.id) or run
        return run

    async def _advance(
        self, claim: Claim, enrolment: Enrolment, step: Step, visit: int, run: StepRun
    ) -> Enrolment | None:
        """One conditional update: still ours, still active, still at this step's visit.

        Group-committed with the batch's other advances (one `bulk_write`), then read back
        with them (one `$in`): the update marks the enrolment with this claim and run
        (`ran`), so the read tells whether this advance is the one that applied.
        """
        now = self.core.clock.now()
        seen: Any = visit - 1 if visit > 1 else {"$exists": False}
        marker = f"{claim.token}:{run.id}"
        fields: dict[str, Any] = {
            f"visits.{step.id}": visit,
            "step_id": run.next_step_id,
            "ran": marker,
        }
        if run.next_step_id is None:
            fields.update(
                state=EnrolmentState.completed.value,
                finished_at=now,
                due_at=None,
                step_due_at=None,
                lease_until=None,
            )
        else:
            due = run.next_due_at or now
            fields.update(
                due_at=due,
                step_due_at=due,
                lease_until=None if due > now else now + self.lease,
            )
        rows = self.core.store.grouped(ENROLMENTS)
        condition = {
            "_id": enrolment.id,
            "claim": claim.token,
            "state": ACTIVE,
            "step_id": step.id,
            f"visits.{step.id}": seen,
        }
        await rows.write(UpdateOne(condition, {"$set": fields}))
        doc = await rows.find_one({"_id": enrolment.id})
        if doc is None or doc.get("claim") != claim.token or doc.get("ran") != marker:
            return None
        return Enrolment.from_doc(doc)

    async def _complete(self, claim: Claim, enrolment: Enrolment) -> bool:
        now = self.core.clock.now()
        result = await enrolments(self.core).update_one(
            {"_id": enrolment.id, "claim": claim.token, "state": ACTIVE},
            {
                "$set": {
                    "state": EnrolmentState.completed.value,
                    "finished_at": now,
                    "step_id": None,
                    "due_at": None,
                    "lease_until": None,
                }
            },
        )
        return bool(result.modified_count)

    async def _later(self, claim: Claim, enrolment: Enrolment, later: Later) -> None:
        """Hand the enrolment back at its step: due again at `until` (a hold), or now."""
        fields: dict[str, Any] = {"lease_until": None}
        if later.until is not None:
            fields["due_at"] = later.until
            fields["step_due_at"] = enrolment.step_due_at or enrolment.due_at
        condition = {
            "_id": enrolment.id,
            "claim": claim.token,
            "state": ACTIVE,
            "step_id": enrolment.step_id,
        }
        await self.core.store.grouped(ENROLMENTS).write(UpdateOne(condition, {"$set": fields}))
