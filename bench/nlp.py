"""Sentiment under load: ingest at a steady rate with NLP on, next to NLP off, same run; then
how fast a backlog drains, next to the model's own rate.

    python bench/nlp.py [--rate 50] [--seconds 20] [--backlog 1000] [--mongo-uri mongodb://…]

For each mode it offers `rate` messages per second for `seconds` (open loop: a slow ingest
cannot slow the offered load down), and reports the achieved ingest throughput and p50/p99
latency, and with NLP on the backlog left when the load stops. Then `backlog` messages are
ingested with the worker stopped, the worker is started, and the time until every one has its
sentiment (results, customer trends and conversation moods written) gives the drain rate; the
model's own batched rate on the same texts, in the worker's batch size, is measured in the
same run (before the loads and after the drain, averaged). The last line printed
is one JSON object. Batch-vs-single figures for the model alone: `bench/nlp_sentiment.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.common import Run, emit, running, store_name, store_option
from bench.nlp_sentiment import load_texts
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from kith.nlp.feature import SentimentWorker
from kith.nlp.moods import ESCALATION_LABEL
from kith.nlp.sentiment import SentimentAnalyzer
from kith.web.app import build_core

BATCH = inspect.signature(SentimentWorker).parameters["batch_size"].default
UNANALYSED = {"direction": "in", "nlp": None}


@contextlib.asynccontextmanager
async def bench_core(args: argparse.Namespace) -> AsyncIterator[tuple[Core, Channel]]:
    """A fresh database with the app's features (the sentiment worker is added by the caller)."""
    settings = Settings(
        mongo_uri=args.mongo_uri, db_name=f"kith_bench_{uuid.uuid4().hex[:8]}", nlp_enabled=False
    )
    async with running(build_core(settings)) as core:
        workspace = await ensure_default_workspace(core)
        channel, _ = await create_channel(core, workspace.id, "api", "bench", {})
        yield core, channel


async def ingest_one(core: Core, channel: Channel, texts: list[str], i: int) -> None:
    message = InboundMessage.on(
        channel,
        channel_message_id=f"m-{i}",
        user=InboundUser(id=f"c-{i % 200}"),
        text=texts[i % len(texts)],
    )
    await ingest(core, channel, message)


@contextlib.asynccontextmanager
async def running_worker(
    core: Core, analyzer: SentimentAnalyzer | None, batch: int
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = None
    if analyzer is not None:
        worker = SentimentWorker(core, analyzer, batch_size=batch)
        install(core, [worker.feature()])
        task = asyncio.create_task(worker.run_forever(stop, poll_seconds=0.2))
    try:
        yield
    finally:
        stop.set()
        if task is not None:
            await task


async def steady_load(
    args: argparse.Namespace, texts: list[str], analyzer: SentimentAnalyzer | None
) -> tuple[Run, int]:
    """Offer the load; returns ingest timings and the sentiment backlog when it stops."""
    async with bench_core(args) as (core, channel), running_worker(core, analyzer, args.batch):
        latencies: list[float] = []

        async def one(i: int) -> None:
            started = time.perf_counter()
            await ingest_one(core, channel, texts, i)
            latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        pending = []
        for i in range(args.rate * args.seconds):
            due = began + i / args.rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            pending.append(asyncio.create_task(one(i)))
        await asyncio.gather(*pending)
        run = Run(len(latencies), time.perf_counter() - began, latencies)
        backlog = await core.store.messages.count_documents(UNANALYSED)
        return run, backlog if analyzer is not None else 0


def busy_core_seconds() -> float:
    """CPU time all processes on this machine have used (Linux /proc/stat), 0 elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


async def drain(
    args: argparse.Namespace, texts: list[str], analyzer: SentimentAnalyzer
) -> tuple[float, float, float, int]:
    """Seconds the worker takes to analyse a backlog of `args.backlog` messages, with the CPU
    seconds used meanwhile by this process and by the rest of the machine (the database, when
    it runs here), and how many conversations escalated on the way (each costs a few writes)."""
    async with bench_core(args) as (core, channel):
        for start in range(0, args.backlog, 50):
            await asyncio.gather(
                *(ingest_one(core, channel, texts, i) for i in range(start, start + 50))
            )
        worker = SentimentWorker(core, analyzer, batch_size=args.batch)
        began, cpu, busy = time.perf_counter(), time.process_time(), busy_core_seconds()
        drained = await worker.drain()
        seconds, ours = time.perf_counter() - began, time.process_time() - cpu
        assert drained == args.backlog, f"drained {drained} of {args.backlog}"
        rest = busy_core_seconds() - busy - ours
        escalated = await core.store.conversations.count_documents({"labels": ESCALATION_LABEL})
        return seconds, ours, rest, escalated


def model_rate(analyzer: SentimentAnalyzer, texts: list[str], batch: int) -> tuple[float, float]:
    """The model alone on `texts`: messages per second, and the CPU seconds it used."""
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch):
        analyzer.analyze(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started), time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=50, help="messages offered per second")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--backlog", type=int, default=1000, help="messages to drain")
    store_option(parser)
    parser.add_argument(
        "--batch", type=int, default=BATCH, help="the worker's batch (and the model's, to compare)"
    )
    args = parser.parse_args()
    args.backlog -= args.backlog % 50
    texts = load_texts(max(args.rate * args.seconds, args.backlog, 64))
    analyzer = SentimentAnalyzer()
    analyzer.warm_up()
    before = model_rate(analyzer, texts[: args.backlog], args.batch)
    off, _ = asyncio.run(steady_load(args, texts, None))
    on, left = asyncio.run(steady_load(args, texts, analyzer))
    drained, kith_cpu, other_cpu, escalated = asyncio.run(drain(args, texts, analyzer))
    after = model_rate(analyzer, texts[: args.backlog], args.batch)
    analyzer.close()
    # The model alone, timed right before the loads and right after the drain: the mean of
    # the two, so that a machine getting busier or quieter meanwhile weighs on both sides.
    rate, model_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    result = {
        "store": store_name(args.mongo_uri),
        "offered_per_s": args.rate,
        "seconds": args.seconds,
        "nlp_off_per_s": round(off.per_s, 1),
        "nlp_on_per_s": round(on.per_s, 1),
        "throughput_ratio": round(on.per_s / off.per_s, 3),
        "nlp_off_p99_ms": round(off.pct(0.99), 1),
        "nlp_on_p99_ms": round(on.pct(0.99), 1),
        "backlog_when_load_stops": left,
        "backlog": args.backlog,
        "drain_seconds": round(drained, 2),
        "drain_per_s": round(args.backlog / drained, 1),
        "batch": args.batch,
        "model_batched_per_s": round(rate, 1),
        "model_before_after_per_s": [round(before[0], 1), round(after[0], 1)],
        "drain_ratio": round(args.backlog / drained / rate, 3),
        "model_cpu_s": round(model_cpu, 1),
        "drain_cpu_kith_s": round(kith_cpu, 1),
        "drain_cpu_rest_of_machine_s": round(other_cpu, 1),
        "drain_escalated_conversations": escalated,
        # What drain_ratio would be if the drain were bound by CPU alone (no waiting): the
        # model's CPU over all the CPU the drain took, Kith's bookkeeping and the database's.
        "cpu_bound_ratio": round(model_cpu / (kith_cpu + other_cpu), 3),
    }
    print(f"NLP off: {off.summary()}")
    print(f"NLP on:  {on.summary()}  backlog when the load stops: {left}")
    print(
        f"drain: {args.backlog} messages in {drained:.2f} s; CPU meanwhile: Kith {kith_cpu:.1f} s,"
        f" rest of the machine (the database if it runs here) {other_cpu:.1f} s;"
        f" {escalated} conversations escalated"
    )
    print(
        f"model alone (batches of {args.batch}): {rate:.1f} msg/s,"
        f" {model_cpu:.1f} CPU s for those texts"
    )
    emit(result)


if __name__ == "__main__":
    main()
