"""Sentiment under load: ingest at a steady rate with NLP on, next to NLP off, same run.

    python bench/nlp.py [--rate 50] [--seconds 20] [--mongo-uri mongodb://…]

For each mode it offers `rate` messages per second for `seconds` (open loop: a slow ingest
cannot slow the offered load down), and reports the achieved ingest throughput and p50/p99
latency; with NLP on it then times how long the sentiment backlog takes to drain and compares
that rate with the model's own batched rate measured in the same run. The last line printed
is one JSON object. Batch-vs-single figures for the model alone: `bench/nlp_sentiment.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.common import Run, emit
from bench.nlp_sentiment import load_texts
from kith.core.channel_records import create_channel
from kith.core.models import InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from kith.nlp.feature import SentimentWorker
from kith.nlp.sentiment import SentimentAnalyzer
from kith.web.app import build_core


async def steady_load(
    args: argparse.Namespace, texts: list[str], analyzer: SentimentAnalyzer | None
) -> tuple[Run, float | None, int]:
    """Offer the load; returns ingest timings, the backlog drain time and the backlog size."""
    settings = Settings(
        mongo_uri=args.mongo_uri, db_name=f"kith_bench_{uuid.uuid4().hex[:8]}", nlp_enabled=False
    )
    core = build_core(settings)  # features without NLP; the worker is added below when on
    await core.start()
    stop = asyncio.Event()
    worker_task = None
    try:
        workspace = await ensure_default_workspace(core)
        channel, _ = await create_channel(core, workspace.id, "api", "bench", {})
        if analyzer is not None:
            worker = SentimentWorker(core, analyzer)
            worker.install()
            worker_task = asyncio.create_task(worker.run_forever(stop, poll_seconds=0.2))
        total = args.rate * args.seconds
        latencies: list[float] = []

        async def one(i: int) -> None:
            started = time.perf_counter()
            await ingest(
                core,
                channel,
                InboundMessage.on(
                    channel,
                    channel_message_id=f"m-{i}",
                    user=InboundUser(id=f"c-{i % 200}"),
                    text=texts[i % len(texts)],
                ),
            )
            latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        pending = []
        for i in range(total):
            due = began + i / args.rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            pending.append(asyncio.create_task(one(i)))
        await asyncio.gather(*pending)
        run = Run(total, time.perf_counter() - began, latencies)
        drain = None
        backlog = await core.store.messages.count_documents({"direction": "in", "nlp": None})
        if analyzer is not None:
            drain_start = time.perf_counter()
            unanalysed = {"direction": "in", "nlp": None}
            while await core.store.messages.count_documents(unanalysed):  # noqa: ASYNC110 (the database is polled; no event to wait on)
                await asyncio.sleep(0.1)
            drain = time.perf_counter() - drain_start
        return run, drain, backlog
    finally:
        stop.set()
        if worker_task is not None:
            await worker_task
        await core.store.client.drop_database(settings.db_name)
        await core.close()


def model_rate(analyzer: SentimentAnalyzer, texts: list[str], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        analyzer.analyze(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=50, help="messages offered per second")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--mongo-uri", default=os.environ.get("KITH_MONGO_URI"))
    args = parser.parse_args()
    texts = load_texts(max(args.rate * args.seconds, 64))
    analyzer = SentimentAnalyzer()
    analyzer.warm_up()
    rate = model_rate(analyzer, texts[:256], 32)
    off, _, _ = asyncio.run(steady_load(args, texts, None))
    on, drain, backlog = asyncio.run(steady_load(args, texts, analyzer))
    analyzer.close()
    drain_rate = backlog / drain if drain else None
    result = {
        "store": "real" if args.mongo_uri else "embedded",
        "offered_per_s": args.rate,
        "seconds": args.seconds,
        "nlp_off_per_s": round(off.per_s, 1),
        "nlp_on_per_s": round(on.per_s, 1),
        "throughput_ratio": round(on.per_s / off.per_s, 3),
        "nlp_off_p99_ms": round(off.pct(0.99), 1),
        "nlp_on_p99_ms": round(on.pct(0.99), 1),
        "backlog_at_end": backlog,
        "drain_seconds": round(drain, 2) if drain is not None else None,
        "drain_per_s": round(drain_rate, 1) if drain_rate else None,
        "model_batched_per_s": round(rate, 1),
    }
    print(f"NLP off: {off.summary()}")
    print(f"NLP on:  {on.summary()}  backlog {backlog}, drained in {drain} s")
    print(f"model alone (batches of 32): {rate:.1f} msg/s")
    emit(result)


if __name__ == "__main__":
    main()
