"""Ingest throughput: `ingest()` against a bare `insert_one` on the same store, same run.

    python bench/ingest.py [--n 20000] [--mongo-uri mongodb://…] [--http-n 4000]

Prints both figures, their ratio and p50/p99 latency, then the same over HTTP (the API
channel's webhook under 50 concurrent clients against a bare FastAPI endpoint that does one
`insert_one`). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from pymongo import monitoring

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Run, emit, free_port, measure, start_server
from kith.core.channel_records import create_channel
from kith.core.models import InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import build_core

TEXTS = [
    "Hi, where is my order? It was due on Monday.",
    "你好，我想退货，衣服尺码不合适。",
    "Thanks, that worked!",
    "Can I change the delivery address to Berlin?",
]


def message_doc(i: int) -> dict[str, object]:
    """A document of the size and shape of a stored inbound message."""
    return {
        "_id": uuid.uuid4().hex[:24],
        "workspace_id": "w" * 24,
        "conversation_id": "c" * 24,
        "customer_id": "u" * 24,
        "channel_id": "h" * 24,
        "direction": "in",
        "author": {"kind": "customer", "id": "u" * 24, "name": "Customer"},
        "text": TEXTS[i % len(TEXTS)],
        "attachments": [],
        "channel_message_id": f"m-{i}",
        "created_at": time.time(),
    }


class RoundTrips(monitoring.CommandListener):
    """Counts the commands the driver sends, by name and collection (each is one round trip),
    with the documents they carry and the time until their answer."""

    def __init__(self) -> None:
        self.by_name: dict[str, int] = {}
        self.docs: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._names: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = f"{event.command_name} {event.command.get(event.command_name)}"
        self.by_name[name] = self.by_name.get(name, 0) + 1
        carried = next(
            (
                len(event.command[k])
                for k in ("documents", "updates", "deletes")
                if k in event.command
            ),
            1,
        )
        self.docs[name] = self.docs.get(name, 0) + carried
        self._names[event.request_id] = name

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._took(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._took(event.request_id, event.duration_micros)

    def _took(self, request_id: int, micros: int) -> None:
        name = self._names.pop(request_id, None)
        if name is not None:
            self.seconds[name] = self.seconds.get(name, 0.0) + micros / 1e6

    def take(self) -> dict[str, int]:
        """The counts since the last call, then start again from zero."""
        counts, self.by_name = self.by_name, {}
        return counts

    def detail(self, n: int) -> str:
        """Per ingest, by command: round trips, documents and summed time until the answer (ms)
        since the last `take`."""
        rows = [
            f"  {name}: {count / n:.2f} trips, {self.docs.get(name, 0) / n:.2f} docs, "
            f"{self.seconds.get(name, 0.0) / count * 1000:.1f} ms per trip"
            for name, count in sorted(self.by_name.items())
        ]
        return "\n".join(rows)

    def reset(self) -> None:
        self.by_name, self.docs, self.seconds = {}, {}, {}


ROUND_TRIPS = RoundTrips()
monitoring.register(ROUND_TRIPS)  # before any client exists: every client reports to it


async def in_process(args: argparse.Namespace) -> tuple[Run, Run, dict[str, int]]:
    settings = Settings(mongo_uri=args.mongo_uri, db_name=f"kith_bench_{uuid.uuid4().hex[:8]}")
    core = build_core(settings)
    await core.start()
    try:
        workspace = await ensure_default_workspace(core)
        channels = [
            (await create_channel(core, workspace.id, "api", f"bench {c}", {}))[0]
            for c in range(args.channels)
        ]
        rng = random.Random(7)
        plan = [
            (rng.randrange(args.customers), rng.randrange(args.channels)) for _ in range(args.n)
        ]
        baseline_coll = core.store.db["bench_baseline"]
        ROUND_TRIPS.reset()
        cpu = time.process_time()
        baseline = await measure(
            args.n, args.concurrency, lambda i: baseline_coll.insert_one(message_doc(i))
        )

        async def one(i: int) -> None:
            customer, c = plan[i]
            channel = channels[c]
            await ingest(
                core,
                channel,
                InboundMessage.on(
                    channel,
                    channel_message_id=f"m-{i}",
                    user=InboundUser(id=f"customer-{customer}", name=f"Customer {customer}"),
                    text=TEXTS[i % len(TEXTS)],
                ),
            )

        baseline_cpu = time.process_time() - cpu
        ROUND_TRIPS.reset()
        cpu = time.process_time()
        pipeline = await measure(args.n, args.concurrency, one)
        pipeline_cpu = time.process_time() - cpu
        print(
            f"client CPU per call: baseline {baseline_cpu / args.n * 1000:.2f} ms, "
            f"ingest {pipeline_cpu / args.n * 1000:.2f} ms"
        )
        if args.mongo_uri:
            print("by command, per ingest:\n" + ROUND_TRIPS.detail(args.n))
        return baseline, pipeline, ROUND_TRIPS.take()
    finally:
        await core.store.client.drop_database(settings.db_name)
        await core.close()


async def over_http(args: argparse.Namespace) -> tuple[Run, Run]:
    env = {
        "KITH_LOG_LEVEL": "WARNING",
        "KITH_DB_NAME": f"kith_bench_{uuid.uuid4().hex[:8]}",
        "KITH_NLP_ENABLED": "false",  # measured separately by bench/nlp.py
    }
    if args.mongo_uri:
        env["KITH_MONGO_URI"] = args.mongo_uri
    else:
        env.pop("KITH_MONGO_URI", None)
        os.environ.pop("KITH_MONGO_URI", None)
    runs = []
    for module in ("bench.servers.baseline", "bench.servers.kith"):
        port = free_port()
        proc = start_server(module, port, env)
        try:
            channel_id, token = proc.stdout.readline().decode().split()  # type: ignore[union-attr]
            url = f"http://127.0.0.1:{port}/webhooks/api/{channel_id}"
            limits = httpx.Limits(max_connections=args.http_clients)
            async with httpx.AsyncClient(limits=limits, timeout=60) as http:
                headers = {"Authorization": f"Bearer {token}"}

                async def post(
                    i: int,
                    http: httpx.AsyncClient = http,
                    url: str = url,
                    headers: dict[str, str] = headers,
                ) -> None:
                    body = {
                        "message_id": f"h-{i}",
                        "user": {"id": f"customer-{i % args.customers}"},
                        "text": TEXTS[i % len(TEXTS)],
                    }
                    answer = await http.post(url, json=body, headers=headers)
                    answer.raise_for_status()

                runs.append(await measure(args.http_n, args.http_clients, post))
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return runs[0], runs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="messages to ingest")
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=20, help="in-process concurrent calls")
    parser.add_argument("--mongo-uri", default=os.environ.get("KITH_MONGO_URI"))
    parser.add_argument("--http-n", type=int, default=4_000, help="requests over HTTP (0: skip)")
    parser.add_argument("--http-clients", type=int, default=50)
    args = parser.parse_args()
    store = args.mongo_uri or "embedded engine"
    print(f"store: {store}; n={args.n} over {args.customers} customers, {args.channels} channels")

    baseline, pipeline, trips = asyncio.run(in_process(args))
    result: dict[str, object] = {
        "store": "real" if args.mongo_uri else "embedded",
        "n": args.n,
        "ingest_per_s": round(pipeline.per_s, 1),
        "baseline_per_s": round(baseline.per_s, 1),
        "ratio": round(pipeline.per_s / baseline.per_s, 3),
        "p50_ms": round(pipeline.pct(0.5), 2),
        "p99_ms": round(pipeline.pct(0.99), 2),
        "baseline_p50_ms": round(baseline.pct(0.5), 2),
        "baseline_p99_ms": round(baseline.pct(0.99), 2),
    }
    print(f"baseline insert_one: {baseline.summary()}")
    print(f"ingest():            {pipeline.summary()}  ratio {result['ratio']}")
    if args.mongo_uri:  # the embedded engine has no driver to count with
        result["round_trips_per_ingest"] = round(sum(trips.values()) / args.n, 2)
        per = ", ".join(f"{name} {count / args.n:.2f}" for name, count in sorted(trips.items()))
        print(f"round trips per ingest: {result['round_trips_per_ingest']} ({per})")
    if args.http_n:
        http_base, http_kith = asyncio.run(over_http(args))
        result.update(
            http_n=args.http_n,
            http_per_s=round(http_kith.per_s, 1),
            http_baseline_per_s=round(http_base.per_s, 1),
            http_ratio=round(http_kith.per_s / http_base.per_s, 3),
            http_p50_ms=round(http_kith.pct(0.5), 2),
            http_p99_ms=round(http_kith.pct(0.99), 2),
        )
        print(f"HTTP bare endpoint:  {http_base.summary()}")
        print(f"HTTP webhook:        {http_kith.summary()}  ratio {result['http_ratio']}")
    emit(result)


if __name__ == "__main__":
    main()
