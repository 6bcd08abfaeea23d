"""Sequences at scale: due steps per second through `SequenceWorker`, the cost of an idle
tick, and the worker's memory with many pending steps, next to a naive baseline measured in
the same run: one APScheduler 3 date job per enrolment step, in its MongoDB job store on the
same database, doing the same step.

    python bench/sequences.py [--enrolments 100000] [--due 10000] [--pending 1000000]
                              [--mongo-uri mongodb://127.0.0.1:27117/]

The sequence is send → wait one day → send, on an API channel (its callback is a loopback
address). `--enrolments` active enrolments, of which `--due` are due now (customers with an
identity and a conversation; the rest are due tomorrow). A due step is the first send: the
courtesy policy, the template, the daily slot, the outbound message put in the outbox under
its derived id, then the wait that moves the enrolment to tomorrow; delivery is the outbox's
work (`bench/outbox.py`) and is not run on either side. Kith: one `SequenceWorker` calls
`run_once()` until every due enrolment has moved. Baseline: an `AsyncIOScheduler` whose
`MongoDBJobStore` (sync pymongo, as APScheduler 3 needs) holds one date job per enrolment;
each due job runs the same step executors (`kith.sequences.steps.execute`) for its
enrolment, records the runs, advances the enrolment and adds the job of its next step.
Round trips: the commands each side sent while running the due steps, per due step
(`bench/ingest.py`'s command listener), with Kith's by command.
Idle tick: `run_once()` with nothing due, median over `--ticks`, at 0 and at `--enrolments`
enrolments. Memory: tracemalloc's peak over `--ticks` idle ticks of one worker with no
enrolment, then with `--pending` enrolments due tomorrow. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import statistics
import sys
import time
import tracemalloc
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.job import Job
from apscheduler.jobstores.mongodb import MongoDBJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.util import datetime_to_utc_timestamp
from bson import Binary
from pymongo import MongoClient, ReturnDocument

from bench.common import emit
from bench.ingest import ROUND_TRIPS  # its command listener: registered before any client
from kith.connectors.api import feature as api_feature
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.ids import new_id
from kith.core.models import Channel
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from kith.courtesy.feature import feature as courtesy_feature
from kith.courtesy.window import Window
from kith.sequences.actions import do_create_sequence, move
from kith.sequences.feature import feature as sequences_feature
from kith.sequences.models import Enrolment, Sequence, SequenceIn, SequenceVersion, Status, StepRun
from kith.sequences.runner import SequenceWorker
from kith.sequences.steps import Later, Run, execute
from kith.sequences.store import enrolments, get_version, run_id, runs
from tests.support.cast import api_channel
from tests.support.crowd import CHUNK, customers_on, enrol_all

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, inside the sending hours
BODY = {
    "name": "Bench",
    "channels": ["api"],
    "steps": [
        {"id": "welcome", "type": "send", "message": {"text": {"en": "Hi {{ customer.name }}"}}},
        {"id": "pause", "type": "wait", "duration": "P1D"},
        {"id": "tip", "type": "send", "message": {"text": {"en": "A tip"}}},
    ],
}
JOBS = "apscheduler_jobs"


@dataclass
class World:
    core: Core
    clock: ManualClock
    settings: Settings
    channel: Channel
    sequence: Sequence
    due_ids: list[str] = field(default_factory=list)


async def world(args: argparse.Namespace) -> World:
    settings = Settings(
        mongo_uri=args.mongo_uri,
        db_name=f"kith_bench_{uuid.uuid4().hex[:8]}",
        sequence_outbox_window=max(args.due, 1) * 2,  # no outbox runs here
        _env_file=None,  # type: ignore[call-arg]
    )
    clock = ManualClock(START)
    core = Core.from_settings(settings, clock=clock)
    install(core, [api_feature, courtesy_feature, sequences_feature(core)])
    await core.start()
    workspace = await ensure_default_workspace(core)
    channel = (await api_channel(core, workspace.id))[0]
    made = await do_create_sequence(core, workspace.id, SequenceIn.model_validate(BODY))
    sequence = await move(core, workspace.id, made.id, Status.active)
    return World(core, clock, settings, channel, sequence)


async def populate(w: World, total: int, due: int) -> None:
    """`due` customers with enrolments due now; `total - due` more enrolments due tomorrow
    (their customers are never read: ids alone)."""
    customers = await customers_on(w.core, w.channel, due)
    w.due_ids = await enrol_all(w.core, w.sequence, customers, START)
    await pending(w, total - due, "idle")


async def pending(w: World, n: int, prefix: str) -> None:
    tomorrow = START + timedelta(days=1)
    for start in range(0, n, CHUNK * 10):
        ids = [f"{prefix}-{i:08d}" for i in range(start, min(start + CHUNK * 10, n))]
        await enrol_all(w.core, w.sequence, ids, tomorrow)


async def drop(w: World) -> None:
    await w.core.store.client.drop_database(w.settings.db_name)
    await w.core.close()


async def idle_ms(worker: SequenceWorker, ticks: int) -> float:
    times = []
    for _ in range(ticks):
        started = time.perf_counter()
        moved = await worker.run_once()
        times.append(time.perf_counter() - started)
        assert moved == 0, "an idle tick found work"
    return statistics.median(times) * 1000


async def kith_phase(args: argparse.Namespace) -> dict[str, Any]:
    w = await world(args)
    try:
        worker = SequenceWorker(w.core, owner="bench")
        empty_ms = await idle_ms(worker, args.ticks)
        w.clock.advance(-60)  # seed while the due ones are a minute ahead: nothing due yet
        await populate(w, args.enrolments, args.due)
        loaded_ms = await idle_ms(worker, args.ticks)
        w.clock.advance(60)
        ROUND_TRIPS.reset()
        started = time.perf_counter()
        moved = 0
        while moved < args.due:
            got = await worker.run_once()
            if not got:
                raise RuntimeError(f"the worker stopped after {moved} of {args.due}")
            moved += got
        seconds = time.perf_counter() - started
        print(f"kith round trips per due step:\n{ROUND_TRIPS.detail(args.due)}")
        trips = sum(ROUND_TRIPS.take().values())
        sent = await w.core.store.messages.count_documents({"purpose": "marketing"})
        assert sent == args.due, f"{sent} messages for {args.due} due steps"
        return {
            "due_per_s": round(args.due / seconds, 1),
            "trips_per_due": round(trips / args.due, 2),
            "due_seconds": round(seconds, 2),
            "idle_tick_ms": round(loaded_ms, 2),
            "idle_tick_ms_empty": round(empty_ms, 2),
        }
    finally:
        await drop(w)


class Naive:
    """The baseline's state: its Core, the scheduler, counts (module-level so the jobs'
    textual reference `__main__:naive_step` finds it)."""

    core: Core
    scheduler: AsyncIOScheduler
    versions: dict[tuple[str, int], SequenceVersion]
    window: Window
    done = 0
    target = 0
    finished: asyncio.Event


async def naive_step(enrolment: str) -> None:
    """One due step of one enrolment, as a job would run it: the same executors as the
    worker, one enrolment at a time, and the next step as a new date job."""
    core = Naive.core
    doc = await enrolments(core).find_one({"_id": enrolment})
    assert doc is not None
    current = Enrolment.from_doc(doc)
    key = (current.sequence_id, current.version)
    version = Naive.versions.get(key) or await get_version(core, *key)
    Naive.versions[key] = version
    token = new_id()  # the executors read the claim back before a send
    await enrolments(core).update_one({"_id": enrolment}, {"$set": {"claim": token}})
    while current.step_id is not None:
        step = version.step(current.step_id)
        assert step is not None
        visit = current.visits.get(step.id, 0) + 1
        rid = run_id(current.id, step.id, visit)
        now = core.clock.now()
        context = Run(core, current, version, token, visit, rid, now, Naive.window)
        ran = await execute(context, step)
        if isinstance(ran, Later):
            raise RuntimeError(f"the baseline's step was handed back: {ran.reason}")
        record = StepRun(
            id=rid,
            workspace_id=current.workspace_id,
            sequence_id=current.sequence_id,
            version=current.version,
            enrolment_id=current.id,
            customer_id=current.customer_id,
            step_id=step.id,
            visit=visit,
            type=step.type,
            outcome=ran.outcome,
            reason=ran.reason,
            message_id=ran.message_id,
            at=now,
            next_step_id=ran.next_step_id,
            next_due_at=ran.next_due_at,
        )
        await runs(core).insert_one(record.to_doc())
        fields = {
            f"visits.{step.id}": visit,
            "step_id": ran.next_step_id,
            "due_at": ran.next_due_at,
        }
        after = await enrolments(core).find_one_and_update(
            {"_id": enrolment}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        current = Enrolment.from_doc(after)
        if ran.next_step_id is not None and ran.next_due_at > now:
            later = datetime.now(UTC) + (ran.next_due_at - now)
            Naive.scheduler.add_job(naive_step, DateTrigger(later), args=[enrolment])
            break
    Naive.done += 1
    if Naive.done >= Naive.target:
        Naive.finished.set()


def job_docs(template: Job, ids: list[str], at: datetime) -> list[dict[str, Any]]:
    """What `MongoDBJobStore.add_job` writes, for many jobs in one `insert_many`."""
    docs = []
    for enrolment in ids:
        state = {**template.__getstate__(), "id": enrolment, "args": (enrolment,)}
        state["trigger"] = DateTrigger(at)
        state["next_run_time"] = at
        docs.append(
            {
                "_id": enrolment,
                "next_run_time": datetime_to_utc_timestamp(at),
                "job_state": Binary(pickle.dumps(state, pickle.HIGHEST_PROTOCOL)),
            }
        )
    return docs


def sync_client(w: World, args: argparse.Namespace) -> Any:
    """APScheduler 3's job store speaks sync pymongo: a client on the same database (the
    embedded engine's own mongomock client there)."""
    if args.mongo_uri:
        return MongoClient(args.mongo_uri, tz_aware=True)
    return w.core.store.client._client


async def naive_phase(args: argparse.Namespace) -> dict[str, Any]:
    w = await world(args)
    client = sync_client(w, args)
    try:
        await populate(w, args.enrolments, args.due)
        store = MongoDBJobStore(database=w.settings.db_name, collection=JOBS, client=client)
        scheduler = AsyncIOScheduler(
            jobstores={"default": store},
            executors={"default": AsyncIOExecutor()},
            job_defaults={"misfire_grace_time": None, "coalesce": False},
            timezone=UTC,
        )
        now = datetime.now(UTC)
        template = scheduler.add_job(naive_step, DateTrigger(now), args=["-"], id="template")
        scheduler.remove_job("template")  # it only gives the jobs' shape
        template._modify(
            executor="default",
            misfire_grace_time=None,
            coalesce=False,
            max_instances=1,
            next_run_time=now,
        )
        rows = client[w.settings.db_name][JOBS]
        due_at = datetime.now(UTC) - timedelta(seconds=1)
        later = datetime.now(UTC) + timedelta(days=1)
        all_ids = await enrolments(w.core).distinct("_id")
        due = set(w.due_ids)
        idle = [i for i in all_ids if i not in due]
        await asyncio.to_thread(rows.insert_many, job_docs(template, w.due_ids, due_at))
        for start in range(0, len(idle), CHUNK * 10):
            chunk = idle[start : start + CHUNK * 10]
            await asyncio.to_thread(rows.insert_many, job_docs(template, chunk, later))
        Naive.core = w.core
        Naive.scheduler = scheduler
        Naive.versions = {}
        Naive.window = Window(w.core, w.settings.sequence_outbox_window)
        Naive.done, Naive.target = 0, args.due
        Naive.finished = asyncio.Event()
        ROUND_TRIPS.reset()
        started = time.perf_counter()
        scheduler.start()
        await Naive.finished.wait()
        seconds = time.perf_counter() - started
        trips = sum(ROUND_TRIPS.take().values())
        scheduler.shutdown(wait=False)
        sent = await w.core.store.messages.count_documents({"purpose": "marketing"})
        assert sent == args.due, f"{sent} messages for {args.due} due jobs"
        return {
            "naive_due_per_s": round(args.due / seconds, 1),
            "naive_seconds": round(seconds, 2),
            "naive_trips_per_due": round(trips / args.due, 2),
        }
    finally:
        await drop(w)
        if args.mongo_uri:
            client.close()


async def memory_phase(args: argparse.Namespace) -> dict[str, Any]:
    w = await world(args)
    try:
        worker = SequenceWorker(w.core, owner="bench-memory")
        await idle_ms(worker, 3)  # warm: versions, driver pools
        none = await traced_peak(worker, args.ticks)
        await pending(w, args.pending, "pending")
        many = await traced_peak(worker, args.ticks)
        return {
            "memory_peak_kib_none": round(none / 1024, 1),
            "memory_peak_kib_pending": round(many / 1024, 1),
            "memory_ratio": round(many / none, 3),
            "pending": args.pending,
        }
    finally:
        await drop(w)


async def traced_peak(worker: SequenceWorker, ticks: int) -> int:
    """The most memory the worker's idle ticks held at once (tracemalloc, bytes)."""
    tracemalloc.start()
    try:
        await idle_ms(worker, ticks)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} / {five:.1f}"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    print(f"load average (1 / 5 min) before: {load()}")
    kith = await kith_phase(args)
    print(f"kith: {kith}; load {load()}")
    naive = await naive_phase(args)
    print(f"naive (APScheduler 3, MongoDBJobStore): {naive}; load {load()}")
    memory = await memory_phase(args)
    print(f"memory: {memory}; load {load()}")
    return {
        "store": "real" if args.mongo_uri else "embedded",
        "enrolments": args.enrolments,
        "due": args.due,
        **kith,
        **naive,
        "ratio": round(kith["due_per_s"] / naive["naive_due_per_s"], 2),
        **memory,
        "load": load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mongo-uri", default=os.environ.get("KITH_MONGO_URI"))
    parser.add_argument("--enrolments", type=int, help="active enrolments (100,000 real)")
    parser.add_argument("--due", type=int, help="of which due now (10,000 real)")
    parser.add_argument("--pending", type=int, help="pending steps for memory (1,000,000 real)")
    parser.add_argument("--ticks", type=int, default=20, help="idle ticks measured")
    args = parser.parse_args()
    real = bool(args.mongo_uri)
    args.enrolments = args.enrolments or (100_000 if real else 5_000)
    args.due = args.due or (10_000 if real else 500)
    args.pending = args.pending if args.pending is not None else (1_000_000 if real else 20_000)
    print(f"store: {args.mongo_uri or 'embedded engine'}; {vars(args)}")
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
