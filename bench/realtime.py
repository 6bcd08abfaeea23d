"""Benchmark the inbox's live stream across processes against the same stream in-process.

    python bench/realtime.py                                       # embedded engine
    python bench/realtime.py --mongo-uri mongodb://127.0.0.1:27117/

Two `Core` objects on one database stand for two `kith serve` processes, A and B, each with
its own client. B serves the inbox over real HTTP and an agent's browser (an httpx client)
holds its SSE stream open. The script times, from the start of `ingest()` to the event's
frame arriving at the browser:
- baseline: messages ingested by B itself (the in-process listener path), and a bare `find`
  round trip on the event log;
- messages ingested by A at a steady rate (open loop);
- messages ingested by A one at a time after a quiet spell (the tail backed off);
- bursts from several processes at once (each message must arrive exactly once).
It also counts B's reads of the `events` collection per second while idle and while events
flow (the database cost of the tail), frames lost or repeated, and frames out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pymongo import AsyncMongoClient, monitoring

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, store_name
from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.channels import ChannelRegistry
from kith.core.context import Core
from kith.core.models import Channel, InboundMessage, InboundUser, Role
from kith.core.pipeline import ingest
from kith.core.sessions import open_session
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import CHANNEL_TYPES, create_app
from kith.web.inbox.deps import SESSION_COOKIE


class EventReads(monitoring.CommandListener):
    """Counts the commands process B sends that read the `events` collection."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        if command.get(event.command_name) == "events" or (
            event.command_name == "getMore" and command.get("collection") == "events"
        ):
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


@dataclass
class Browser:
    """The agent's side of the SSE stream: when each message's frame arrived, in what order."""

    arrived: dict[str, float] = field(default_factory=dict)
    repeated: int = 0
    out_of_order: int = 0
    newest: str = ""  # the latest `created_at` among the frames so far
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self, lines: Any) -> None:
        async for line in lines:
            if line.startswith("data: "):
                now = time.perf_counter()
                data = json.loads(line[6:])
                if data["created_at"] < self.newest:  # stamped before one already shown
                    self.out_of_order += 1
                self.newest = max(data["created_at"], self.newest)
                if data["type"] != "message.received":
                    continue
                if data["message_id"] in self.arrived:
                    self.repeated += 1
                else:
                    self.arrived[data["message_id"]] = now
                self.changed.set()

    async def wait_for(self, ids: list[str], within: float) -> None:
        """Until every one of `ids` has arrived, or `within` seconds (then some are lost)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while not all(i in self.arrived for i in ids):
                    self.changed.clear()
                    await self.changed.wait()


def inbound(channel: Channel) -> InboundMessage:
    return InboundMessage.on(
        channel,
        channel_message_id=f"rt-{uuid.uuid4().hex}",
        user=InboundUser(id=f"bench-{random.randrange(50)}", name="Bench"),
        text="ping",
    )


class Sender:
    """Ingests through one process and remembers when each message's ingest started."""

    def __init__(self, core: Core, channel: Channel) -> None:
        self.core, self.channel = core, channel
        self.started: dict[str, float] = {}
        self.stored: dict[str, float] = {}

    async def one(self) -> str:
        started = time.perf_counter()
        received = await ingest(self.core, self.channel, inbound(self.channel))
        self.started[received.message.id] = started
        self.stored[received.message.id] = time.perf_counter()
        return received.message.id

    async def steady(self, rate: float, seconds: float) -> list[str]:
        """Open loop: a message every 1/rate s, whether or not the previous one finished."""
        tasks, begin = [], time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.one()))
        return list(await asyncio.gather(*tasks))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latencies(
    browser: Browser, senders: list[Sender], ids: list[str], since: str = "started"
) -> list[float]:
    """ms from the start of each message's ingest (or its end, `since="stored"`: the event
    is committed by then, so what is left is the stream's own delay) to its frame."""
    start = {k: v for s in senders for k, v in getattr(s, since).items()}
    return [(browser.arrived[i] - start[i]) * 1000 for i in ids if i in browser.arrived]


def line(label: str, samples: list[float], stored: list[float] | None = None) -> dict[str, float]:
    p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
    out = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "max_ms": round(max(samples), 2)}
    text = f"{label:<40} p50 {p50:8.2f} ms  p95 {p95:8.2f} ms  max {max(samples):8.2f} ms"
    if stored:
        out["stored_p50_ms"] = round(percentile(stored, 0.5), 2)
        out["stored_p95_ms"] = round(percentile(stored, 0.95), 2)
        text += f"  | after commit p50 {out['stored_p50_ms']:7.2f}  p95 {out['stored_p95_ms']:7.2f}"
    print(text)
    return out


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def process(settings: Settings, shared: Store | None, listener: EventReads | None) -> Core:
    """One stand-in `kith serve` process with a client of its own (the embedded engine lives
    in one process, so there every process shares its store)."""
    if shared is not None:
        store = shared
    else:
        assert settings.mongo_uri
        client: Any = AsyncMongoClient(
            settings.mongo_uri, tz_aware=True, event_listeners=[listener] if listener else []
        )
        store = Store(client=client, db=client[settings.db_name], embedded=False)
    return Core(store=store, settings=settings, channels=ChannelRegistry(CHANNEL_TYPES))


@contextlib.asynccontextmanager
async def serving(app: Any) -> Any:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)


async def run(args: argparse.Namespace, b: Core, others: list[Core], reads: EventReads) -> None:
    workspace = await ensure_default_workspace(b)
    channel, _ = await create_channel(b, workspace.id, "api", "Bench", {})
    admin = await create_user(b, workspace.id, "bench@kith.test", "bench-password", role=Role.admin)
    cookie = await open_session(b, admin)
    browser = Browser()
    local, a = Sender(b, channel), Sender(others[0], channel)
    result: dict[str, Any] = {
        "bench": "realtime",
        "store": store_name(args.mongo_uri),
        "load_average": round(os.getloadavg()[0], 1),  # the machine is shared: say how busy
    }

    async def bare_find() -> None:
        await b.store.events.find_one({"workspace_id": workspace.id}, sort=[("created_at", -1)])

    async with (
        serving(create_app(core=b, run_workers=False)) as port,
        httpx.AsyncClient(timeout=60, cookies={SESSION_COOKIE: cookie}) as http,
        http.stream("GET", f"http://127.0.0.1:{port}/app/api/events") as stream,
    ):
        reader = asyncio.create_task(browser.read(stream.aiter_lines()))
        await browser.wait_for([await local.one()], 10)  # connected and warm
        result["bare_find"] = line("baseline: bare find on events", await timed(bare_find, 50))
        ids = await local.steady(args.rate, args.seconds)
        await browser.wait_for(ids, 10)
        result["same_process"] = line(
            f"baseline: ingest by B, {args.rate:g}/s",
            latencies(browser, [local], ids),
            latencies(browser, [local], ids, "stored"),
        )
        reads.count, started = 0, time.perf_counter()
        ids = await a.steady(args.rate, args.seconds)
        await browser.wait_for(ids, 10)
        counted = not b.store.embedded  # command monitoring needs a driver
        flow = reads.count / (time.perf_counter() - started)
        result["flow_reads_per_s"] = round(flow, 1) if counted else None
        result["other_process"] = line(
            f"ingest by A, {args.rate:g}/s",
            latencies(browser, [a], ids),
            latencies(browser, [a], ids, "stored"),
        )
        sparse = []
        for _ in range(args.sparse):
            await asyncio.sleep(random.uniform(0.5, 1.5) * args.gap)
            sparse.append(await a.one())
            await browser.wait_for(sparse[-1:], 10)
        result["after_idle"] = line(
            f"ingest by A after {args.gap:g} s quiet",
            latencies(browser, [a], sparse),
            latencies(browser, [a], sparse, "stored"),
        )
        reads.count = 0
        await asyncio.sleep(args.idle)
        result["idle_reads_per_s"] = round(reads.count / args.idle, 1) if counted else None
        senders = [Sender(core, channel) for core in others]
        burst_started = time.perf_counter()
        batches = await asyncio.gather(
            *(asyncio.gather(*(s.one() for _ in range(args.burst))) for s in senders)
        )
        burst = [i for batch in batches for i in batch]
        await browser.wait_for(burst, 30)
        last = max((browser.arrived[i] for i in burst if i in browser.arrived), default=0.0)
        result["burst"] = {
            "processes": len(senders),
            "events": len(burst),
            "last_frame_ms": round((last - burst_started) * 1000, 1),
            **line(
                f"burst, {len(senders)} processes × {args.burst}",
                latencies(browser, senders, burst),
                latencies(browser, senders, burst, "stored"),
            ),
        }
        sent = set(local.started) | {i for s in [a, *senders] for i in s.started}
        result["lost"] = len(sent - set(browser.arrived))
        result["repeated"] = browser.repeated
        result["out_of_order"] = browser.out_of_order
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await reader
    cross, base = result["other_process"]["p95_ms"], result["same_process"]["p95_ms"]
    result["p95_over_same_process_ms"] = round(cross - base, 2)
    reads_line = (
        f"B's reads of the event log: {result['idle_reads_per_s']}/s idle,"
        f" {result['flow_reads_per_s']}/s while events flow"
        if result["idle_reads_per_s"] is not None
        else "B's reads of the event log: not counted on the embedded engine"
    )
    print(
        f"{reads_line}; lost {result['lost']}, repeated {result['repeated']},"
        f" out of order {result['out_of_order']}"
    )
    emit(result)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mongo-uri", default=None, help="real server; default: embedded engine")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second, steady")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each steady run")
    parser.add_argument("--sparse", type=int, default=20, help="messages after a quiet spell")
    parser.add_argument("--gap", type=float, default=2.0, help="mean quiet spell, seconds")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds to count idle reads")
    parser.add_argument("--processes", type=int, default=3, help="processes ingesting a burst")
    parser.add_argument("--burst", type=int, default=50, help="messages per process in a burst")
    args = parser.parse_args()
    settings = Settings(
        mongo_uri=args.mongo_uri,
        db_name=f"kith_bench_{uuid.uuid4().hex[:8]}",
        _env_file=None,  # type: ignore[call-arg]
    )
    reads = EventReads()
    b = process(settings, None if args.mongo_uri else Store.from_settings(settings), reads)
    shared = None if args.mongo_uri else b.store
    others = [process(settings, shared, None) for _ in range(max(1, args.processes))]
    try:
        await b.start()
        await run(args, b, others, reads)
    finally:
        await b.store.client.drop_database(settings.db_name)
        for core in [*others, b]:
            await core.http.aclose()
            if core is b or not core.store.embedded:
                await core.store.close()


if __name__ == "__main__":
    asyncio.run(main())
