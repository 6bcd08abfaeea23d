"""A 20,000-customer broadcast over a fake Telegram Bot API with the real rate limits, on a
clock the benchmark moves: the share of each bot's cap used, limit violations, duplicates
and skips after random kills of broadcast workers, and how long a service reply waits.

    python bench/broadcast.py [--n 20000] [--bots 2] [--kills 3] [--mongo-uri mongodb://…]

Customers (half per bot) each started the bot (a private conversation) and carry the tag
`bench`; a segment selects them. Three `BroadcastWorker`s (each its own owner, as processes)
and one `OutboxWorker` run a pass each per tick; then the clock moves `--tick` seconds. At
`--kills` random ticks in the first half, one worker's pass is cancelled mid-way (what it
held stays leased) and a fresh worker replaces it. Every `--reply-every` ticks a service
reply is sent to a customer of bot 1: its wait (virtual seconds from send to delivered) is
the fairness figure. The baseline is the cap itself: `cap × seconds` from the first to the
last send of each bot; violations are 1-second windows in which a bot sent more than its cap
(from the stored send times, on the same clock as the limiter); duplicates are sends the fake
Bot API received more than once per chat. A second, smaller phase repeats the service reply
measure with the window off (`broadcast_outbox_window` = n): the baseline for fairness.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    announce,
    emit,
    run_settings,
    running,
    server_process,
    store_name,
    store_option,
)
from kith.broadcasts.actions import do_create_broadcast, do_schedule, get_broadcast
from kith.broadcasts.feature import feature as broadcasts_feature
from kith.broadcasts.models import Broadcast, BroadcastIn
from kith.broadcasts.worker import BroadcastWorker
from kith.connectors.telegram.sender import PER_BOT
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.ids import new_id
from kith.core.models import Author, AuthorKind, Conversation, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import BASE_FEATURES

MARKETER = Author(kind=AuthorKind.agent, id="bench", name="Bench")
CAP, PER = PER_BOT


async def seed(core: Core, base: str, n: int, bots: int) -> tuple[str, list[str], list[Any]]:
    """`n` customers spread over `bots` Telegram channels, each with a private chat."""
    workspace = await ensure_default_workspace(core)
    channels = []
    for b in range(bots):
        config = {"bot_token": f"70000000{b:02d}:bench-token", "api_base": base, "mode": "polling"}
        channel, _ = await create_channel(core, workspace.id, "telegram", f"Bot {b}", config)
        channels.append(channel)
    now = core.clock.now()
    conversations = []
    for start in range(0, n, 1000):
        customers, identities, threads = [], [], []
        for i in range(start, min(start + 1000, n)):
            channel = channels[i % bots]
            customer_id, chat = new_id(), str(100_000 + i)
            ref = {"channel_id": channel.id, "external_id": chat}
            customers.append(
                {
                    "_id": customer_id,
                    "workspace_id": workspace.id,
                    "name": f"Customer {i}",
                    "tags": ["bench"],
                    "channels": ["telegram"],
                    "identities": [ref],
                    "first_seen": now,
                    "last_seen": now,
                    "merged_into": None,
                }
            )
            identities.append(
                {
                    "_id": new_id(),
                    "workspace_id": workspace.id,
                    "channel_id": channel.id,
                    "channel_type": "telegram",
                    "external_id": chat,
                    "customer_id": customer_id,
                    "created_at": now,
                }
            )
            conversation = Conversation(
                id=new_id(),
                workspace_id=workspace.id,
                customer_id=customer_id,
                channel_id=channel.id,
                channel_type="telegram",
                thread_key=chat,
                external_user_id=chat,
                last_message_at=now,
                created_at=now,
            )
            threads.append(conversation.to_doc())
            if i % bots == 0:
                conversations.append(conversation)
        await core.store.customers.insert_many(customers)
        await core.store.identities.insert_many(identities)
        await core.store.conversations.insert_many(threads)
    segment = {
        "_id": new_id(),
        "workspace_id": workspace.id,
        "name": "bench",
        "filter": {"field": "tags", "op": "contains", "value": "bench"},
    }
    await core.store.collection("segments").insert_one(segment)
    return workspace.id, [c.id for c in channels], conversations


async def start(core: Core, workspace_id: str, segment_id: str) -> Broadcast:
    body = BroadcastIn.model_validate(
        {
            "name": "Bench",
            "segment_id": segment_id,
            "channels": ["telegram"],
            "message": {"text": {"en": "Hello {{ customer.name }}, spring is here."}},
        }
    )
    made = await do_create_broadcast(core, workspace_id, body, MARKETER)
    return await do_schedule(core, made, MARKETER)


async def run_phase(
    core: Core, clock: ManualClock, args: argparse.Namespace, n: int, kills: int
) -> dict[str, Any]:
    workspace_id, channel_ids, conversations = await seed(core, args.base, n, args.bots)
    segment = await core.store.collection("segments").find_one({"workspace_id": workspace_id})
    broadcast = await start(core, workspace_id, segment["_id"])
    rng = random.Random(args.seed)
    expected_ticks = n / (CAP * args.bots) / args.tick
    kill_at = (
        set(rng.sample(range(2, max(2 + kills, int(expected_ticks / 2))), kills))
        if kills
        else set()
    )
    workers = [BroadcastWorker(core, owner=f"w{i}") for i in range(3)]
    outbox = OutboxWorker(core)
    waits: list[float] = []
    replies: dict[str, datetime] = {}
    tick = 0
    killed = 0
    started = time.perf_counter()
    while True:
        tick += 1
        for index, worker in enumerate(list(workers)):
            if tick in kill_at and index == 0:
                task = asyncio.create_task(worker.run_once())
                await asyncio.sleep(rng.uniform(0.001, 0.02))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                workers[0] = BroadcastWorker(core, owner=f"replacement-{tick}")
                killed += 1
                continue
            await worker.run_once()
        if args.reply_every and tick % args.reply_every == 0:
            target = conversations[(tick // args.reply_every) % len(conversations)]
            reply = await send(core, target, OutboundContent(text="Your parcel left"), MARKETER)
            replies[reply.id] = clock.now()
        handled = await outbox.run_once(limit=100_000)
        if args.verbose:
            print(f"  tick {tick}: outbox handled {handled}")
        for message_id, sent_at in list(replies.items()):
            doc = await core.store.messages.find_one({"_id": message_id}, {"delivery": 1})
            if doc and doc["delivery"]["status"] == "sent":
                waits.append((doc["delivery"]["sent_at"] - sent_at).total_seconds())
                del replies[message_id]
        current = await get_broadcast(core, workspace_id, broadcast.id)
        pending = await core.store.messages.count_documents({"delivery.status": "pending"})
        if current.finished_at is not None and pending == 0 and not replies:
            break
        clock.advance(args.tick)
        if tick % 100 == 0:
            print(f"  tick {tick}: sent {current.stats.sent}/{n}, outbox pending {pending}")
    seconds = time.perf_counter() - started
    return await report(core, args, current, channel_ids, waits, killed, seconds, n)


async def report(
    core: Core,
    args: argparse.Namespace,
    done: Broadcast,
    channel_ids: list[str],
    waits: list[float],
    killed: int,
    seconds: float,
    n: int,
) -> dict[str, Any]:
    fractions, violations = [], 0
    for channel_id in channel_ids:
        windows: Counter[int] = Counter()
        cursor = core.store.messages.find(
            {"channel_id": channel_id, "delivery.status": "sent"}, {"delivery.sent_at": 1}
        )
        async for doc in cursor:
            windows[int(doc["delivery"]["sent_at"].timestamp() // PER)] += 1
        span = max(windows) - min(windows) + 1
        fractions.append(sum(windows.values()) / (CAP * span))
        violations += sum(1 for count in windows.values() if count > CAP)
    stats = json.loads((await core.http.get(args.base + "/stats")).text)
    by_chat = stats["by_chat"]
    duplicates = sum(count - 1 for count in by_chat.values() if count > 1)
    waits.sort()
    return {
        "n": n,
        "sent": done.stats.sent,
        "skipped": sum(done.stats.skipped.values()),
        "cap_fraction": [round(f, 3) for f in fractions],
        "violations": violations,
        "duplicates": duplicates,
        "kills": killed,
        "reply_wait_p50_s": waits[len(waits) // 2] if waits else None,
        "reply_wait_max_s": waits[-1] if waits else None,
        "wall_seconds": round(seconds, 1),
    }


async def phase(args: argparse.Namespace, n: int, kills: int, window: int) -> dict[str, Any]:
    settings = run_settings(
        args.mongo_uri,
        broadcast_outbox_window=window,
        broadcast_lease_seconds=args.lease,
    )
    clock = ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # inside the sending hours
    core = Core.from_settings(settings, clock=clock)
    install(core, [*BASE_FEATURES, broadcasts_feature(core)])
    async with running(core):
        return await run_phase(core, clock, args, n, kills)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    main = await phase(args, args.n, args.kills, args.window)
    print(f"window {args.window}: {main}")
    await args.http_reset()
    baseline = await phase(args, args.baseline_n, 0, max(args.baseline_n, 1))
    print(f"window off (baseline, {args.baseline_n} customers): {baseline}")
    return {
        "store": store_name(args.mongo_uri),
        **main,
        "window": args.window,
        "baseline_reply_wait_max_s": baseline["reply_wait_max_s"],
        "baseline_n": args.baseline_n,
        "baseline_cap_fraction": baseline["cap_fraction"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="customers in the broadcast")
    parser.add_argument("--bots", type=int, default=2, help="Telegram bots (channels)")
    parser.add_argument("--kills", type=int, default=3, help="broadcast workers killed")
    parser.add_argument("--tick", type=float, default=1.0, help="virtual seconds per tick")
    parser.add_argument("--window", type=int, default=60, help="broadcast_outbox_window")
    parser.add_argument("--lease", type=float, default=30.0, help="broadcast lease, seconds")
    parser.add_argument("--reply-every", type=int, default=2, help="ticks between replies")
    parser.add_argument("--baseline-n", type=int, default=3000, help="customers, window off")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--verbose", action="store_true")
    store_option(parser)
    args = parser.parse_args()
    announce(args)
    with server_process("bench.servers.telegram") as server:
        args.base = server.base

        async def reset() -> None:
            server.restart()

        args.http_reset = reset
        result = asyncio.run(run(args))
    emit(result)


if __name__ == "__main__":
    main()
