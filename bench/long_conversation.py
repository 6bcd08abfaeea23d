"""Ingest into a long conversation: does a message cost more where more has been said?

    python bench/long_conversation.py [--n 150] [--terms 2000,20000] [--mongo-uri mongodb://…]

A 1:1 WeChat thread is one conversation for ever, and a busy group's holds every word said in
it: a conversation's search terms (`kith.core.conversation_terms`) number in the thousands to
tens of thousands. For each size in `--terms`, a conversation is opened and given that many
terms, then `--n` messages go into it one after another, each ingested and then indexed by the
search consumer (as `kith serve` does a moment later), each bringing a word the conversation
lacks and some it holds. Baseline: the same into a conversation holding only its first
message's terms, measured first and last in the same run. Prints ms per message and the
ratio to the baseline per size; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Run,
    announce,
    emit,
    measure,
    run_settings,
    running,
    store_name,
    store_option,
)
from bench.ingest import TEXTS
from kith.core.channel_records import create_channel
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.conversation_terms import add_terms
from kith.core.models import Channel, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import build_core


def inbound(channel: Channel, user: str, i: int) -> InboundMessage:
    return InboundMessage.on(
        channel,
        channel_message_id=f"{user}-{i}",
        user=InboundUser(id=user, name=user),
        text=f"{TEXTS[i % len(TEXTS)]} word{i}",
    )


async def into_conversation(core: Core, channel: Channel, user: str, terms: int, n: int) -> Run:
    """`n` messages stored and indexed, one at a time, into `user`'s conversation once it
    holds `terms` more."""
    opened = await ingest(core, channel, inbound(channel, user, -1))
    conversation = opened.conversation
    await add_terms(
        core, conversation.workspace_id, conversation.id, (f"held{k}" for k in range(terms))
    )
    search = core.consumers.get("search")
    assert search is not None
    worker = ConsumerWorker(core)

    async def stored_and_indexed(i: int) -> None:
        await ingest(core, channel, inbound(channel, user, i))
        await worker.run_consumer(search)

    return await measure(n, 1, stored_and_indexed)


async def run(args: argparse.Namespace) -> dict[str, object]:
    sizes = [int(size) for size in args.terms.split(",")]
    core = build_core(run_settings(args.mongo_uri))
    async with running(core):
        workspace = await ensure_default_workspace(core)
        channel, _ = await create_channel(core, workspace.id, "api", "bench", {})
        runs: dict[str, Run] = {}
        for name, size in [("baseline", 0), *((str(s), s) for s in sizes), ("baseline_again", 0)]:
            runs[name] = await into_conversation(core, channel, f"user-{name}", size, args.n)
            print(f"{size:7d} terms held: {_ms(runs[name]):6.2f} ms per message (median)")
    baseline = (_ms(runs.pop("baseline")) + _ms(runs.pop("baseline_again"))) / 2
    print(f"baseline (first and last): {baseline:.2f} ms")
    result: dict[str, object] = {"store": store_name(args.mongo_uri), "n": args.n}
    result["baseline_ms"] = round(baseline, 2)
    for name, measured in runs.items():
        result[f"terms_{name}_ms"] = round(_ms(measured), 2)
        result[f"terms_{name}_ratio"] = round(_ms(measured) / baseline, 2)
        print(f"{name} terms / baseline: {_ms(measured) / baseline:.2f}")
    return result


def _ms(measured: Run) -> float:
    return statistics.median(measured.latencies) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=150, help="messages ingested per conversation")
    parser.add_argument("--terms", default="2000,20000", help="terms held, comma-separated")
    store_option(parser)
    args = parser.parse_args()
    announce(args)
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
