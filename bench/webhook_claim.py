"""The webhook worker's claim while one endpoint has all its attempts in flight.

One slow receiver with a backlog (`--backlog` due deliveries) and `--endpoints` others with
one due delivery each. The worker's claim asks the others endpoint by endpoint; the baseline,
in the same run on the same store, is the one query it replaced (every due delivery but the
full endpoint's, oldest first), which reads the backlog to find the others'.

    python bench/webhook_claim.py [--backlog 20000] [--endpoints 3] [--mongo-uri URI]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import announce, emit, run_settings, running, store_name, store_option
from kith.core.context import Core
from kith.core.features import install
from kith.core.leases import unleased
from kith.webhooks.feature import feature
from kith.webhooks.models import DeliveryStatus
from kith.webhooks.store import deliveries, endpoints
from kith.webhooks.worker import DeliveryWorker

ROUNDS = 20


async def load(core: Core, backlog: int, others: int) -> list[str]:
    """The endpoints (the slow one first) and their due deliveries, oldest the backlog's."""
    now = core.clock.now()
    ids = ["slow", *(f"other-{n}" for n in range(others))]
    await endpoints(core).insert_many([{"_id": e, "workspace_id": "w"} for e in ids])
    pending = DeliveryStatus.pending.value
    for start in range(0, backlog, 5_000):
        await deliveries(core).insert_many(
            [
                {
                    "_id": f"d-slow-{n:06d}",
                    "endpoint_id": "slow",
                    "status": pending,
                    "next_attempt_at": now - timedelta(hours=1, seconds=-n / 1000),
                }
                for n in range(start, min(backlog, start + 5_000))
            ]
        )
    await deliveries(core).insert_many(
        [
            {"_id": f"d-{e}", "endpoint_id": e, "status": pending, "next_attempt_at": now}
            for e in ids[1:]
        ]
    )
    return ids


async def timed(op: Callable[[], Awaitable[list[dict[str, Any]]]], want: int) -> float:
    """Median milliseconds of `op` over the rounds; each must find the others' `want`."""
    spent = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        found = await op()
        spent.append(time.perf_counter() - started)
        assert len(found) == want, found
    return sorted(spent)[len(spent) // 2] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--endpoints", type=int, default=3, help="endpoints with room")
    store_option(parser)
    args = parser.parse_args()
    announce(args)
    core = Core.from_settings(run_settings(args.mongo_uri))
    install(core, [feature(core)])
    async with running(core):
        await load(core, args.backlog, args.endpoints)
        worker = DeliveryWorker(core, per_endpoint=2)
        now = core.clock.now()
        due = {"status": DeliveryStatus.pending.value, "next_attempt_at": {"$lte": now}}
        due |= unleased(now)
        busy = {"slow": worker.per_endpoint}
        claim_ms = await timed(lambda: worker._due_elsewhere(due, ["slow"], busy), args.endpoints)
        one_query = {**due, "endpoint_id": {"$nin": ["slow"]}}
        baseline_ms = await timed(lambda: worker._due(one_query, worker.batch_size), args.endpoints)
    print(
        f"{args.backlog:,} due for the full endpoint, {args.endpoints} others with one each: "
        f"claim {claim_ms:.2f} ms (median of {ROUNDS}); "
        f"baseline, the one query: {baseline_ms:.2f} ms; {baseline_ms / claim_ms:.1f}x"
    )
    emit(
        {
            "bench": "webhook_claim",
            "store": store_name(args.mongo_uri),
            "backlog": args.backlog,
            "endpoints_with_room": args.endpoints,
            "claim_ms": round(claim_ms, 3),
            "baseline_one_query_ms": round(baseline_ms, 3),
            "speedup": round(baseline_ms / claim_ms, 1),
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
