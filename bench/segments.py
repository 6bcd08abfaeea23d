"""Segments kept by events against a full rescan: 100,000 customers, 20 segments.

Measures, in one run on one store:
- **tag → entered**: a customer gains a tag a segment reads; the time until
  `segment.entered` is recorded, with the consumer worker of `kith serve` running (p50/p99);
- **an event no segment matches**: the consumer's cost for a tag change on a customer who is
  in no segment before or after (the 20 filters evaluated in memory, no write), and for a
  change no segment reads (skipped by `fields_named`);
- **the baseline**: a full rescan of the same 20 segments (each filter run as a query over
  all customers, as cron-rebuilt segments do), and a full reconciliation (the rescan plus the
  comparison with the member rows).

    python bench/segments.py [--customers 100000] [--changes 200] [--mongo-uri URI]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Run, emit, run_settings, running, store_name
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.customers import do_update_customer, get_customer
from kith.core.features import install
from kith.core.models import Event
from kith.core.workspaces import ensure_default_workspace
from kith.segments.filters import matches, to_query
from kith.segments.membership import consume, live
from kith.segments.reconcile import reconcile
from kith.segments.records import Segment, do_create_segment
from kith.web.app import BASE_FEATURES

TARGET_TAG = "bench-vip"
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "London", "Berlin"]
CHANNELS = ["wechat", "telegram", "email", "slack", "webchat"]


def c(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


SEGMENTS: list[tuple[str, dict[str, Any]]] = [
    ("target", c("tags", "contains", TARGET_TAG)),
    ("vip", c("tags", "contains", "vip")),
    ("new", c("tags", "contains", "new")),
    ("shanghai", c("attributes.city", "eq", "上海")),
    ("beijing", c("attributes.city", "eq", "北京")),
    ("vip-sh", {"all": [c("tags", "contains", "vip"), c("attributes.city", "eq", "上海")]}),
    ("telegram", c("channels", "contains", "telegram")),
    ("wechat-vip", {"all": [c("channels", "contains", "wechat"), c("tags", "contains", "vip")]}),
    ("granted", c("consent.email", "eq", "granted")),
    ("revoked", c("consent.email", "eq", "revoked")),
    ("unhappy", c("sentiment.trend", "lt", -0.5)),
    ("happy", c("sentiment.trend", "gt", 0.6)),
    ("active", c("last_seen_at", "within_days", 3)),
    ("lapsed", c("last_seen_at", "older_than_days", 330)),
    ("senior", c("attributes.age", "gte", 65)),
    ("paying", c("attributes.plan", "in", ["pro", "team"])),
    ("south", {"any": [c("attributes.city", "eq", "广州"), c("attributes.city", "eq", "深圳")]}),
    (
        "mailable",
        {"all": [c("channels", "contains", "email"), c("consent.email", "eq", "granted")]},
    ),
    ("churned", c("tags", "contains", "churned")),
    ("fresh", c("created_at", "within_days", 2)),
]


def person(rng: random.Random, i: int, workspace_id: str, now: Any) -> dict[str, Any]:
    tags = [t for t, p in (("vip", 0.05), ("new", 0.05), ("churned", 0.03)) if rng.random() < p]
    consent = rng.choice(["granted", "revoked", None, None])
    last_seen = now - timedelta(days=rng.uniform(0, 365))
    return {
        "_id": f"bench-{i:06d}",
        "workspace_id": workspace_id,
        "name": f"Customer {i}",
        "tags": tags,
        "attributes": {
            "city": rng.choice(CITIES),
            "age": rng.randint(18, 80),
            "plan": rng.choice(["free", "free", "free", "pro", "team"]),
        },
        "channels": [rng.choice(CHANNELS)],
        "identities": [],
        "consent": {"email": {"state": consent}} if consent else {},
        "sentiment": {"score": round(rng.uniform(-1, 1), 3), "samples": []},
        "emails": [],
        "phones": [],
        "first_seen": last_seen - timedelta(days=rng.uniform(3, 400)),
        "last_seen": last_seen,
        "merged_into": None,
    }


async def load(core: Core, workspace_id: str, n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = core.clock.now()
    people = [person(rng, i, workspace_id, now) for i in range(n)]
    for start in range(0, n, 5000):
        await core.store.customers.insert_many([dict(p) for p in people[start : start + 5000]])
    return people


async def rescan(core: Core, segments: list[Segment]) -> float:
    """Every segment's members from a query over all customers: the baseline."""
    started = time.perf_counter()
    for segment in segments:
        query = {"$and": [{"workspace_id": segment.workspace_id, "merged_into": None}]}
        query["$and"].append(to_query(live(core, segment).node, core.clock.now()))
        async for _ in core.store.customers.find(query, {"_id": 1}).batch_size(1000):
            pass
    return time.perf_counter() - started


async def tag_to_entered(
    core: Core, workspace_id: str, candidates: list[dict[str, Any]], changes: int
) -> Run:
    """Tag customers one at a time with the worker running; time until `segment.entered`."""
    waiting: dict[str, asyncio.Future[float]] = {}

    def heard(event: Event) -> None:
        future = waiting.get(event.customer_id or "")
        if event.type == "segment.entered" and future and not future.done():
            future.set_result(time.perf_counter())

    core.event_listeners.append(heard)
    stop = asyncio.Event()
    worker = asyncio.create_task(ConsumerWorker(core).run_forever(stop))
    latencies = []
    started = time.perf_counter()
    try:
        for doc in candidates[:changes]:
            customer = await get_customer(core, workspace_id, doc["_id"])
            waiting[customer.id] = asyncio.get_running_loop().create_future()
            t0 = time.perf_counter()
            await do_update_customer(core, customer, fields={"tags": [*customer.tags, TARGET_TAG]})
            latencies.append(await asyncio.wait_for(waiting[customer.id], 30) - t0)
    finally:
        stop.set()
        await worker
        core.event_listeners.remove(heard)
    return Run(len(latencies), time.perf_counter() - started, latencies)


async def consumer_cost(
    core: Core, workspace_id: str, ids: list[str], fields: dict[str, Any]
) -> Run:
    """The consumer's work for events that move nobody (timed on the consumer itself)."""
    latencies = []
    started = time.perf_counter()
    for customer_id in ids:
        customer = await get_customer(core, workspace_id, customer_id)
        change = {k: v(customer) for k, v in fields.items()}
        await do_update_customer(core, customer, fields=change)
        doc = await core.store.events.find_one(
            {"type": "customer.updated", "customer_id": customer_id}, sort=[("created_at", -1)]
        )
        assert doc is not None
        event = Event.from_doc(doc)
        t0 = time.perf_counter()
        await consume(core, event)
        latencies.append(time.perf_counter() - t0)
    return Run(len(latencies), time.perf_counter() - started, latencies)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mongo-uri", default=None, help="real server; default: embedded engine")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--quiet-events", type=int, default=200)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    settings = run_settings(args.mongo_uri)
    core = Core.from_settings(settings)
    install(core, BASE_FEATURES)
    async with running(core):
        workspace_id = (await ensure_default_workspace(core)).id
        t = time.perf_counter()
        people = await load(core, workspace_id, args.customers, args.seed)
        print(f"loaded {args.customers:,} customers in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        segments = []
        for name, raw in SEGMENTS:
            made = await do_create_segment(core, workspace_id, name, raw)
            await reconcile(core, made, "fill", quiet=True)
            segments.append(made)
        fill_s = time.perf_counter() - t
        rows = await core.store.collection("segment_members").count_documents({})
        print(f"filled {len(segments)} segments ({rows:,} member rows) in {fill_s:.1f} s")

        rescan_s = await rescan(core, segments)
        t = time.perf_counter()
        for segment in segments:
            await reconcile(core, segment, "bench")
        reconcile_s = time.perf_counter() - t
        print(f"baseline: full rescan {rescan_s:.2f} s, full reconciliation {reconcile_s:.2f} s")

        now = core.clock.now()
        nodes = [live(core, s).node for s in segments]
        nowhere = [p for p in people if not any(matches(n, p, now) for n in nodes)]
        rng = random.Random(args.seed + 1)
        rng.shuffle(nowhere)
        print(f"{len(nowhere):,} customers are in no segment")
        entered = await tag_to_entered(core, workspace_id, nowhere, args.changes)
        quiet_ids = [p["_id"] for p in nowhere[args.changes : args.changes + args.quiet_events]]
        no_match = await consumer_cost(
            core, workspace_id, quiet_ids, {"tags": lambda cu: [*cu.tags, "lurker"]}
        )
        skipped = await consumer_cost(
            core, workspace_id, quiet_ids, {"name": lambda cu: f"{cu.name} (renamed)"}
        )
        e, m, s = entered.summary(), no_match.summary(), skipped.summary()
        print(f"tag → segment.entered: p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms ({entered.n})")
        print(f"event no segment matches: p50 {m['p50_ms']} ms, p99 {m['p99_ms']} ms")
        print(f"event no segment reads (skipped): p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms")
        per_event = m["mean_ms"] / 1000
        print(f"one no-match event costs 1/{rescan_s / per_event:,.0f} of a full rescan")
        emit(
            {
                "bench": "segments",
                "store": store_name(args.mongo_uri),
                "customers": args.customers,
                "segments": len(segments),
                "member_rows": rows,
                "fill_s": round(fill_s, 2),
                "rescan_s": round(rescan_s, 3),
                "reconcile_s": round(reconcile_s, 3),
                "entered_p50_ms": e["p50_ms"],
                "entered_p99_ms": e["p99_ms"],
                "no_match_p50_ms": m["p50_ms"],
                "no_match_p99_ms": m["p99_ms"],
                "skipped_p50_ms": s["p50_ms"],
                "rescan_over_no_match_event": round(rescan_s / per_event, 1),
            }
        )


if __name__ == "__main__":
    asyncio.run(main())
