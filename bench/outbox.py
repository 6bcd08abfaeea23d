"""Outbox delivery: throughput against a bare loop of the same HTTP posts, and whether one
trickling endpoint slows the healthy channels' deliveries.

    python bench/outbox.py [--n 2000] [--rounds 3] [--concurrency 32] [--mongo-uri mongodb://…]

Fake platform endpoints (`bench/servers/endpoints.py`, own process) answer in ~50 ms.
1. Throughput: `--n` queued replies spread over workspaces, channels and conversations,
   delivered by one `OutboxWorker.run_once()` at `--concurrency` sends in flight, against the
   same number of bare `httpx` POSTs of the same size to the same endpoints, same concurrency,
   same client (`core.http`), in `--rounds` alternating rounds: medians, and the median of
   the rounds' ratios, and the CPU this process spent per reply and per POST (the throughput
   phase sends the replies before its clock starts; their CPU is not counted).
2. Latency: a worker runs (`run_forever`, real clock) while replies are sent at `--rate` per
   second for `--seconds`; the time from `send()` to the `message.delivered` event of the
   healthy channels' replies, p99, first alone, then with `--slow-share` of the replies going
   to an endpoint that answers a byte every 2 s (the deadline stays `--deadline`).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Run,
    announce,
    emit,
    measure,
    run_settings,
    running,
    server_process,
    store_name,
    store_option,
)
from kith.core.channel_records import create_channel
from kith.core.channels import ChannelRegistry
from kith.core.context import Core
from kith.core.models import (
    Author,
    AuthorKind,
    Conversation,
    Event,
    InboundMessage,
    InboundUser,
    OutboundContent,
)
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from kith.core.workspaces import create_workspace
from kith.web.app import CHANNEL_TYPES

AGENT = Author(kind=AuthorKind.agent, id="bench-agent", name="Bench")
TEXT = "Your parcel left our warehouse this morning; it should reach you on Thursday."


async def conversations(
    core: Core, base: str, prefix: str, workspaces: int, channels: int, per_channel: int
) -> list[Conversation]:
    """Conversations on API channels calling back `base`/<path>, in new workspaces."""
    out = []
    for w in range(workspaces):
        workspace = await create_workspace(core, f"{prefix} shop {w}")
        for c in range(channels):
            url = f"{base}/{prefix}/{w}-{c}"
            channel, _ = await create_channel(
                core, workspace.id, "api", f"{prefix} {w}-{c}", {"callback_url": url}
            )
            for u in range(per_channel):
                user = InboundUser(id=f"{prefix}-{w}-{c}-{u}")
                inbound = InboundMessage.on(
                    channel, channel_message_id=f"{prefix}-{w}-{c}-{u}", user=user, text="hi"
                )
                out.append((await ingest(core, channel, inbound)).conversation)
    return out


@dataclass(frozen=True)
class Phase:
    """A throughput phase: operations a second, and this process's CPU per operation."""

    per_s: float
    cpu_ms: float


async def throughput(core: Core, healthy: list[Conversation], args: argparse.Namespace) -> Phase:
    """Deliver `--n` queued replies with one worker; the clocks run while it delivers."""
    for i, conversation in zip(range(args.n), itertools.cycle(healthy), strict=False):
        await send(core, conversation, OutboundContent(text=f"{TEXT} #{i}"), AGENT)
    started, cpu = time.perf_counter(), time.process_time()
    handled = await OutboxWorker(core).run_once(limit=args.n)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    sent = await core.store.messages.count_documents({"delivery.status": "sent"})
    assert handled == sent == args.n, (handled, sent)
    return Phase(args.n / seconds, cpu * 1000 / args.n)


@dataclass(frozen=True)
class Paired:
    """The throughput rounds' medians: rates, the median of the rounds' ratios, and the CPU
    this process spent per reply (outbox) and per POST (bare loop)."""

    baseline_per_s: float
    per_s: float
    ratio: float
    baseline_cpu_ms: float
    cpu_ms: float


async def paired(core: Core, healthy: list[Conversation], args: argparse.Namespace) -> Paired:
    """`--rounds` rounds of the bare loop then the outbox: the medians of each, and the median
    of the rounds' ratios (this machine's speed drifts by half between minutes, far less within
    a round)."""
    bare: list[Phase] = []
    kith: list[Phase] = []
    for round_ in range(1, args.rounds + 1):
        bare.append(await bare_loop(core, healthy, args))
        kith.append(await throughput(core, healthy, args))
        await report_failures(core)
        await core.store.messages.delete_many({"direction": "out"})
        print(
            f"round {round_}: bare loop {bare[-1].per_s:7.1f}/s ({bare[-1].cpu_ms:.2f} ms CPU "
            f"a POST), outbox run_once() {kith[-1].per_s:7.1f}/s ({kith[-1].cpu_ms:.2f} ms CPU "
            "a reply)"
        )
    return Paired(
        statistics.median(b.per_s for b in bare),
        statistics.median(k.per_s for k in kith),
        statistics.median(k.per_s / b.per_s for k, b in zip(kith, bare, strict=True)),
        statistics.median(b.cpu_ms for b in bare),
        statistics.median(k.cpu_ms for k in kith),
    )


async def bare_loop(core: Core, healthy: list[Conversation], args: argparse.Namespace) -> Phase:
    """The same number of POSTs of a callback-sized body to the same endpoints."""
    urls = [await callback_url(core, c) for c in healthy[: args.n]]
    body = json.dumps({"event": "message.created", "message": {"text": TEXT}, "pad": "x" * 250})

    async def post(i: int) -> None:
        answer = await core.http.post(
            urls[i % len(urls)], content=body, headers={"content-type": "application/json"}
        )
        answer.raise_for_status()

    cpu = time.process_time()
    run = await measure(args.n, args.concurrency, post)
    return Phase(run.per_s, (time.process_time() - cpu) * 1000 / args.n)


async def callback_url(core: Core, conversation: Conversation) -> str:
    doc = await core.store.channels.find_one({"_id": conversation.channel_id})
    return str(doc["config"]["callback_url"])


async def latency(
    core: Core, healthy: list[Conversation], slow: list[Conversation], args: argparse.Namespace
) -> list[float]:
    """Healthy replies' send → delivered times (seconds) while a worker runs."""
    queued: dict[str, float] = {}
    took: list[float] = []
    done = asyncio.Event()

    def delivered(event: Event) -> None:
        if event.type != "message.delivered":
            return
        started = queued.pop(str(event.message_id), None)
        if started is not None:
            took.append(time.perf_counter() - started)
            if len(took) == expected:
                done.set()

    total = int(args.rate * args.seconds)
    every = round(1 / args.slow_share) if slow else 0
    expected = total - (total // every if every else 0)
    core.event_listeners.append(delivered)
    stop = asyncio.Event()
    worker = asyncio.create_task(OutboxWorker(core).run_forever(stop))
    healthy_turn, slow_turn = itertools.cycle(healthy), itertools.cycle(slow or [None])
    started = time.perf_counter()
    for i in range(total):
        await asyncio.sleep(max(0.0, started + i / args.rate - time.perf_counter()))
        if every and i % every == every - 1:
            await send(core, next(slow_turn), OutboundContent(text=TEXT), AGENT)  # type: ignore[arg-type]
            continue
        message = await send(core, next(healthy_turn), OutboundContent(text=TEXT), AGENT)
        queued[message.id] = time.perf_counter()
    await asyncio.wait_for(done.wait(), 120)
    worker.cancel()  # the slow sends in flight are cancelled; their leases would expire
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    core.event_listeners.remove(delivered)
    await report_failures(core)
    return took


async def report_failures(core: Core) -> None:
    """Failed attempts of the phase, by error (a healthy phase has none)."""
    errors: dict[str, int] = {}
    async for doc in core.store.messages.find({"delivery.attempts": {"$gt": 0}}):
        errors[doc["delivery"]["error"]] = errors.get(doc["delivery"]["error"], 0) + 1
    print(f"  failed attempts: {errors or 'none'}")


def p99_ms(samples: list[float]) -> float:
    return Run(len(samples), 1.0, samples).pct(0.99)


async def run(args: argparse.Namespace, base: str) -> dict[str, object]:
    settings = run_settings(
        args.mongo_uri,
        outbox_concurrency=args.concurrency,
        outbox_send_timeout_seconds=args.deadline,
    )
    core = Core.from_settings(settings, channels=ChannelRegistry(CHANNEL_TYPES))
    async with running(core):
        healthy = await conversations(core, base, "ok", 4, 2, args.per_channel)
        # The trickling endpoint is another host, as in life: circuit breakers are per host,
        # so on the healthy ones' host its failures would (rightly) hold them too.
        slow_base = base.replace("127.0.0.1", "localhost")
        slow = await conversations(core, slow_base, "trickle", 1, 1, args.per_channel)
        rounds = await paired(core, healthy, args)
        alone = await latency(core, healthy, [], args)
        await core.store.messages.delete_many({"direction": "out"})
        with_slow = await latency(core, healthy, slow, args)
        print(f"healthy p99 alone:     {p99_ms(alone):8.1f} ms ({len(alone)} replies)")
        print(f"healthy p99 with slow: {p99_ms(with_slow):8.1f} ms ({len(with_slow)} replies)")
        return {
            "store": store_name(args.mongo_uri),
            "n": args.n,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "per_s": round(rounds.per_s, 1),
            "baseline_per_s": round(rounds.baseline_per_s, 1),
            "ratio": round(rounds.ratio, 3),
            "cpu_ms_per_reply": round(rounds.cpu_ms, 2),
            "baseline_cpu_ms_per_post": round(rounds.baseline_cpu_ms, 2),
            "healthy_p50_ms": round(Run(len(alone), 1, alone).pct(0.5), 1),
            "healthy_p99_ms": round(p99_ms(alone), 1),
            "healthy_p99_ms_with_slow": round(p99_ms(with_slow), 1),
            "fairness_ratio": round(p99_ms(with_slow) / p99_ms(alone), 3),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="replies for the throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (medians)")
    parser.add_argument("--concurrency", type=int, default=32, help="sends in flight")
    parser.add_argument("--per-channel", type=int, default=25, help="conversations per channel")
    parser.add_argument("--rate", type=float, default=40.0, help="replies a second (latency)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send (latency)")
    parser.add_argument("--slow-share", type=float, default=0.1, help="share to the slow one")
    parser.add_argument("--deadline", type=float, default=30.0, help="send deadline, seconds")
    store_option(parser)
    args = parser.parse_args()
    announce(args)
    with server_process("bench.servers.endpoints") as server:
        result = asyncio.run(run(args, server.base))
    emit(result)


if __name__ == "__main__":
    main()
