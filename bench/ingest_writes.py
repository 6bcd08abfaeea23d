"""What each of ingest's statements costs the engine alone, against a bare `insert_one`.

    python bench/ingest_writes.py [--n 3000] [--concurrency 20] [--mongo-uri mongodb://…]

`bench/ingest.py` measures the pipeline; this measures its parts. Documents are copies of
what `ingest()` stored for 300 conversations (same fields, same indexes, a Kith store set up
as `kith serve` sets it up), each statement sent alone by `--concurrency` callers: a message
insert, a `message.received` event insert, a conversation bump (as the pipeline's), a
conversation read; then the event insert and the conversation bump again on copies of their
collections that have no secondary index, which is what the indexes cost. The bare insert
runs first and last. The last line is one JSON object: each statement's rate and its ratio to
the bare insert.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Run, announce, emit, measure, run_settings, running, store_option
from bench.ingest import TEXTS, message_doc
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import build_core

CONVERSATIONS = 300
UNINDEXED_EVENTS = "bench_events_unindexed"
UNINDEXED_CONVERSATIONS = "bench_conversations_unindexed"
Statement = Callable[[int], Awaitable[object]]


async def seeded(core: Core) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """Conversations opened by `ingest()`, and a stored message and event to copy."""
    workspace = await ensure_default_workspace(core)
    channel, _ = await create_channel(core, workspace.id, "api", "bench", {})
    conversations = []
    for c in range(CONVERSATIONS):
        inbound = InboundMessage.on(
            channel,
            channel_message_id=f"seed-{c}",
            user=InboundUser(id=f"customer-{c}", name=f"Customer {c}"),
            text=TEXTS[c % len(TEXTS)],
        )
        conversations.append((await ingest(core, channel, inbound)).conversation.id)
    message = await core.store.messages.find_one({})
    event = await core.store.events.find_one({"type": "message.received"})
    assert message is not None and event is not None
    return conversations, message, event


def statements(
    core: Core, conversations: list[str], message: Any, event: Any
) -> dict[str, Statement]:
    db = core.store.db

    def copied(template: dict[str, Any], i: int, **fields: object) -> dict[str, Any]:
        doc = copy.deepcopy(template)
        doc.update(conversation_id=conversations[i % CONVERSATIONS], **fields)
        return doc

    def bump(i: int, collection: str = "conversations") -> Awaitable[object]:
        return db[collection].update_one(
            {"_id": conversations[i % CONVERSATIONS], "status": "open"},
            {
                "$inc": {"unread_count": 1},
                "$max": {"last_message_at": core.clock.now()},
                "$set": {"preview": {"text": TEXTS[i % len(TEXTS)]}},
            },
        )

    return {
        "bare_insert": lambda i: db["bench_baseline"].insert_one(message_doc(i)),
        "message_insert": lambda i: db["messages"].insert_one(
            copied(message, i, _id=uuid.uuid4().hex[:24], dedup_key=f"bench:{i}:{uuid.uuid4()}")
        ),
        "event_insert": lambda i: db["events"].insert_one(
            copied(event, i, _id=f"{uuid.uuid4().hex[:24]}.received")
        ),
        "conversation_bump": bump,
        "conversation_read": lambda i: db["conversations"].find_one(
            {"_id": conversations[i % CONVERSATIONS]}
        ),
        "event_insert_unindexed": lambda i: db[UNINDEXED_EVENTS].insert_one(
            copied(event, i, _id=f"{uuid.uuid4().hex[:24]}.received")
        ),
        "conversation_bump_unindexed": lambda i: bump(i, UNINDEXED_CONVERSATIONS),
    }


async def unindexed_copies(core: Core) -> None:
    """The conversations as stored, in a collection with no index but `_id`'s (and an empty
    one for events): the same statements there cost the engine no secondary index entries."""
    db = core.store.db
    await db[UNINDEXED_EVENTS].drop()
    await db[UNINDEXED_CONVERSATIONS].drop()
    await db[UNINDEXED_CONVERSATIONS].insert_many(await db["conversations"].find().to_list())


async def run(args: argparse.Namespace) -> dict[str, object]:
    core = build_core(run_settings(args.mongo_uri))
    async with running(core):
        conversations, message, event = await seeded(core)
        await unindexed_copies(core)
        runs: dict[str, Run] = {}
        plan = statements(core, conversations, message, event)
        for name in [*plan, "bare_insert_again"]:
            runs[name] = await measure(args.n, args.concurrency, plan[name.removesuffix("_again")])
            print(f"{name:28s} {runs[name].per_s:9.1f}/s  p50 {runs[name].pct(0.5):6.1f} ms")
    bare = (runs["bare_insert"].per_s + runs.pop("bare_insert_again").per_s) / 2
    result: dict[str, object] = {
        "n": args.n,
        "concurrency": args.concurrency,
        "bare_per_s": round(bare, 1),
    }
    for name, measured in runs.items():
        if name != "bare_insert":
            result[f"{name}_per_s"] = round(measured.per_s, 1)
            result[f"{name}_ratio"] = round(measured.per_s / bare, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="statements of each kind")
    parser.add_argument("--concurrency", type=int, default=20, help="callers at once")
    store_option(parser)
    args = parser.parse_args()
    announce(args)
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
