"""The embedded engine on a big collection: reads and writes where a TTL index or a unique
index is declared, against the same operations on a twin collection without it.

    python bench/embedded.py [--n 60000] [--ops 500]

Each collection holds `--n` documents (as after a 60,000-contact import). Timed, `--ops` each:
`find_one` by `_id` and `insert_one` with a TTL index (mongomock tested every document's
expiry on every access), `insert_one` and an `update_one` of the indexed field with a unique
index (the check after each write went through every document). The baseline is the same
operations on a twin without the index; `ratio` is baseline time over indexed time (1.0: the
index costs nothing). Embedded engine only: a real server's indexes are its own business.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit
from kith.core.embedded import EmbeddedClient, EmbeddedCollection


async def timed(ops: int, op: Callable[[int], Awaitable[object]]) -> float:
    """Milliseconds per call of `op(i)`, i in range(ops), after one call not timed (which
    may build what the others use)."""
    await op(ops)
    started = time.perf_counter()
    for i in range(ops):
        await op(i)
    return (time.perf_counter() - started) * 1000 / ops


async def filled(coll: EmbeddedCollection, n: int, index: dict[str, object] | None) -> None:
    """`n` documents, then the index (made after them: mongomock checks each insert)."""
    later = datetime.now(UTC) + timedelta(days=1)
    docs = [{"_id": i, "purge_at": later, "email": f"u{i}@example.com"} for i in range(n)]
    for start in range(0, n, 5000):
        await coll.insert_many(docs[start : start + 5000])
    if index is not None:
        field = "purge_at" if "expireAfterSeconds" in index else "email"
        await coll.create_index([(field, 1)], **index)  # type: ignore[arg-type]


async def phases(coll: EmbeddedCollection, args: argparse.Namespace) -> dict[str, float]:
    later = datetime.now(UTC) + timedelta(days=1)
    n, ops = args.n, args.ops
    return {
        "find_one_ms": await timed(ops, lambda i: coll.find_one({"_id": i * 7 % n})),
        "insert_ms": await timed(
            ops, lambda i: coll.insert_one({"purge_at": later, "email": f"new{i}@example.com"})
        ),
        "update_ms": await timed(
            ops, lambda i: coll.update_one({"_id": i}, {"$set": {"email": f"upd{i}@example.com"}})
        ),
    }


async def run(args: argparse.Namespace) -> dict[str, object]:
    db = EmbeddedClient()["bench"]
    out: dict[str, object] = {"store": "embedded", "n": args.n, "ops": args.ops}
    kinds: dict[str, dict[str, object]] = {
        "ttl": {"expireAfterSeconds": 0},
        "unique": {"unique": True},
    }
    for kind, index in kinds.items():
        await filled(db[f"{kind}_plain"], args.n, None)
        await filled(db[f"{kind}_indexed"], args.n, index)
        plain = await phases(db[f"{kind}_plain"], args)
        indexed = await phases(db[f"{kind}_indexed"], args)
        for phase, ms in indexed.items():
            print(f"{kind:6} {phase:12} {ms:8.3f} ms   without the index {plain[phase]:8.3f} ms")
        total = sum(indexed.values())
        out[kind] = {**{k: round(v, 3) for k, v in indexed.items()}, "ms": round(total, 3)}
        out[f"{kind}_baseline_ms"] = round(sum(plain.values()), 3)
        out[f"{kind}_ratio"] = round(sum(plain.values()) / total, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60_000, help="documents per collection")
    parser.add_argument("--ops", type=int, default=500, help="calls timed per operation")
    args = parser.parse_args()
    print(f"store: embedded engine; {vars(args)}")
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
