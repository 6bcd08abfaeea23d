"""SLA clocks at scale: the cost of a sweep against the number of tickets due, and how late
breaches are acted on while tickets change status.

    python bench/tickets.py [--tickets 100000] [--due 1000] [--window 120]
                            [--mongo-uri mongodb://127.0.0.1:27117/]

`--tickets` open tickets are bulk-inserted with their SLA clocks (a default 24/7 policy: first
reply in 60 min, resolution in 8 h, breach action "raise priority"), as `do_create_ticket`
would store them, with creation times chosen so that their first reply falls due where each
phase needs it; all the others are due days later.

1. Sweep cost: on a manual clock, 0, 10, 100 and 1,000 tickets fall due among all of them;
   one `SlaWorker.run_once()` (the indexed range, the claim, the events, the writes) is timed
   for each step, next to a read of every open ticket's clocks (what a sweep proportional to
   the open tickets would pay at least).
2. Lateness: the clock runs at wall speed (a `ScaledClock` on a manual base); `--due` tickets
   fall due spread over `--window` seconds while two SLA workers (each `run_forever`, 1 s
   poll) and the event consumers (which run the breach action) work, and 10 % of all tickets
   change status once (pending, on hold or solved) through `do_update_ticket`, spread over
   the window. Lateness is the clock time from each due moment to its `ticket.sla_breached`
   event, and to the priority raised by its breach action (p50 / p99; goal p99 < 60 s).

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import announce, emit, run_settings, running, store_name, store_option
from kith.core.clock import ManualClock, ScaledClock
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.events import SYSTEM
from kith.core.features import install
from kith.core.ids import new_id
from kith.core.workspaces import ensure_default_workspace
from kith.tickets.actions import do_update_ticket
from kith.tickets.feature import feature as tickets_feature
from kith.tickets.models import Status, Ticket, TicketPatch
from kith.tickets.sla import next_at, open_sla
from kith.tickets.sla_models import PolicyIn, Targets
from kith.tickets.sla_store import save_policy, terms_for
from kith.tickets.sla_worker import SlaWorker
from kith.tickets.store import tickets

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RUN = T0 + timedelta(hours=2)  # the lateness phase: after the sweep phase's due moments
FIRST_REPLY = timedelta(minutes=60)
CHUNK = 2000
STEPS = (0, 10, 100, 1000)
MOVERS = 16


async def insert_tickets(core: Core, workspace_id: str, due: list[datetime]) -> list[str]:
    """One open ticket per due moment (its first reply due then), in bulk inserts."""
    terms = await terms_for(core, workspace_id, None, "normal")
    ids: list[str] = []
    batch: list[dict[str, Any]] = []
    for n, moment in enumerate(due):
        created = moment - FIRST_REPLY
        ticket = Ticket(
            id=new_id(),
            workspace_id=workspace_id,
            number=n + 1,
            subject=f"Bench {n}",
            customer_id=f"c{n}",
            status=Status.open,
            created_by=SYSTEM,
            created_at=created,
            updated_at=created,
        )
        ticket.sla = open_sla(terms, "open", created)
        ticket.sla_next_at = next_at(ticket.sla)
        batch.append(ticket.to_doc())
        ids.append(ticket.id)
        if len(batch) == CHUNK:
            await tickets(core).insert_many(batch, ordered=False)
            batch = []
    if batch:
        await tickets(core).insert_many(batch, ordered=False)
    return ids


def due_moments(total: int, due: int, window: float) -> list[datetime]:
    """The sweep phase's 1,110 due seconds, the run's `due` spread over the window, the rest
    (and the two phases' tickets' later deadlines) far ahead."""
    sweep = [T0 + timedelta(seconds=s + 1) for s in range(sum(STEPS))]
    run = [RUN + timedelta(seconds=5 + window * i / max(due, 1)) for i in range(due)]
    later = [T0 + timedelta(days=3, seconds=i) for i in range(total - len(sweep) - len(run))]
    return sweep + run + later


async def sweep_costs(core: Core) -> dict[str, Any]:
    worker = SlaWorker(core, "sweep", batch=2000)
    costs: dict[str, float] = {}
    passed = 0
    for step in STEPS:
        core.clock = ManualClock(T0 + timedelta(seconds=passed + step + 0.5))
        started = time.perf_counter()
        handled = await worker.run_once()
        costs[str(step)] = round((time.perf_counter() - started) * 1000, 1)
        assert handled == step, (step, handled)
        passed += step
    started = time.perf_counter()
    cursor = tickets(core).find({"status": "open"}, {"sla": 1, "sla_next_at": 1})
    read = sum([1 async for _ in cursor])
    full_read = round((time.perf_counter() - started) * 1000, 1)
    return {"sweep_ms_by_due": costs, "read_all_open_ms": full_read, "open_read": read}


async def change_statuses(core: Core, workspace_id: str, ids: list[str], window: float) -> int:
    """10 % of the tickets change status once (pending, on hold or solved, in turn), spread
    evenly over the window, up to `MOVERS` at a time."""
    chosen = random.Random(7).sample(ids, len(ids) // 10)
    pace = window / max(len(chosen), 1)
    gate = asyncio.Semaphore(MOVERS)
    started = time.monotonic()

    async def move(n: int, ticket_id: str) -> int:
        await asyncio.sleep(max(0.0, started + n * pace - time.monotonic()))
        to = (Status.pending, Status.on_hold, Status.solved)[n % 3]
        async with gate:
            try:
                await do_update_ticket(core, workspace_id, ticket_id, TicketPatch(status=to))
            except Conflict:  # raced a breach action on the same ticket: not counted
                return 0
        return 1

    return sum(await asyncio.gather(*(move(n, i) for n, i in enumerate(chosen))))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


async def lateness(
    core: Core, workspace_id: str, ids: list[str], due: int, window: float
) -> dict[str, Any]:
    core.clock = ScaledClock(1.0, base=ManualClock(RUN))
    stop = asyncio.Event()
    loops = [
        asyncio.create_task(SlaWorker(core, "a").run_forever(stop)),
        asyncio.create_task(SlaWorker(core, "b").run_forever(stop)),
        asyncio.create_task(ConsumerWorker(core, "c").run_forever(stop)),
    ]
    moved = await change_statuses(core, workspace_id, ids, window)
    # Until the bound has passed for the last due moment: what is not acted on by then is late.
    last = RUN + timedelta(seconds=5 + window + 60)
    await asyncio.sleep(max(0.0, (last - core.clock.now()).total_seconds()))
    stop.set()
    await asyncio.gather(*loops)
    breaches = await core.store.events.find(
        {"type": "ticket.sla_breached", "data.due_at": {"$gte": RUN}}
    ).to_list(None)
    due_of = {e["data"]["ticket_id"]: e["data"]["due_at"] for e in breaches}
    recorded = [(e["created_at"] - e["data"]["due_at"]).total_seconds() for e in breaches]
    updates = await core.store.events.find(
        {"type": "ticket.updated", "data.changes.priority": {"$exists": True}}
    ).to_list(None)
    acted = [
        (e["created_at"] - due_of[e["data"]["ticket_id"]]).total_seconds()
        for e in updates
        if e["data"]["ticket_id"] in due_of
    ]
    return {
        "breaches": len(breaches),
        "actions": len(acted),
        "status_changes": moved,
        "breach_late_s": {"p50": pct(recorded, 0.5), "p99": pct(recorded, 0.99)},
        "action_late_s": {"p50": pct(acted, 0.5), "p99": pct(acted, 0.99)},
        "mean_action_late_s": round(statistics.fmean(acted), 2) if acted else None,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    core = Core.from_settings(run_settings(args.mongo_uri), clock=ManualClock(T0))
    install(core, [tickets_feature(core)])
    async with running(core):
        workspace_id = (await ensure_default_workspace(core)).id
        policy = PolicyIn.model_validate(
            {
                "name": "Bench",
                "default": True,
                "targets": {
                    "normal": Targets(first_reply=60, resolution=8 * 60),
                    "high": Targets(first_reply=30, resolution=4 * 60),
                },
                "breach_actions": [{"type": "raise_priority", "metrics": ["first_reply"]}],
            }
        )
        await save_policy(core, workspace_id, policy)
        started = time.perf_counter()
        due = due_moments(args.tickets, args.due, args.window)
        ids = await insert_tickets(core, workspace_id, due)
        inserted_s = round(time.perf_counter() - started, 1)
        print(f"inserted {len(ids)} tickets in {inserted_s} s", flush=True)
        sweep = await sweep_costs(core)
        print(f"sweep: {sweep}", flush=True)
        late = await lateness(core, workspace_id, ids, args.due, args.window)
        return {
            "bench": "tickets",
            "store": store_name(args.mongo_uri),
            "tickets": args.tickets,
            "due": args.due,
            "window_s": args.window,
            "insert_s": inserted_s,
            **sweep,
            **late,
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--window", type=float, default=120.0)
    store_option(parser)
    arguments = parser.parse_args()
    announce(arguments)
    emit(asyncio.run(main(arguments)))
