"""Token buckets shared by every Kith process, kept in MongoDB (the `rate_limits` collection).

A bucket holds up to `capacity` tokens and gains `per_second` of them each second; each call
takes one. Bursts up to the capacity pass, a sustained flood is held to the refill rate, and
nothing is counted in one process's memory, so all processes agree. A bucket is a document
updated by compare-and-set on a version number (plain updates: they run on every engine).

Why buckets here and fixed windows (`kith.core.ratelimit`) for the outbox: these limits
guard Kith's public endpoints against abuse, where a window edge would let twice the limit
through and a refused call should spend nothing; the outbox's limits copy the platforms'
quotas, which the platforms count per window. Building either on the other would change
which calls pass and the waits callers answer with (`Retry-After`), so there are two; they
share the collection, its expiry (`ratelimit.expires_after`) and the stored-time arithmetic
(`kith.core.clock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from kith.core.clock import as_stored, aware
from kith.core.context import Core
from kith.core.ratelimit import expires_after

_RACES = 5  # compare-and-set attempts before a contended bucket counts as empty


@dataclass(frozen=True)
class Bucket:
    """A limit: `capacity` at once, refilled at `per_second`; `key` names whose bucket it is."""

    key: str
    capacity: float
    per_second: float


def _expiry(bucket: Bucket) -> datetime:
    """When a full refill has surely happened."""
    return expires_after(bucket.capacity / bucket.per_second)


async def take(core: Core, bucket: Bucket) -> float:
    """Take one token: 0 when there was one, else the seconds until there is."""
    buckets = core.store.rate_limits
    key = f"bucket:{bucket.key}"
    for _ in range(_RACES):
        now = as_stored(core.clock.now())  # else each update gains the lost microseconds
        doc = await buckets.find_one({"_id": key})
        if doc is None:
            try:
                await buckets.insert_one(
                    {
                        "_id": key,
                        "tokens": bucket.capacity - 1,
                        "at": now,
                        "v": 0,
                        "expires_at": _expiry(bucket),
                    }
                )
            except DuplicateKeyError:
                continue
            return 0.0
        elapsed = max(0.0, (now - aware(doc["at"])).total_seconds())
        tokens = min(bucket.capacity, float(doc["tokens"]) + elapsed * bucket.per_second)
        if tokens < 1:
            return (1 - tokens) / bucket.per_second
        done = await buckets.update_one(
            {"_id": key, "v": doc["v"]},
            {
                "$set": {"tokens": tokens - 1, "at": now, "expires_at": _expiry(bucket)},
                "$inc": {"v": 1},
            },
        )
        if done.modified_count == 1:
            return 0.0
    return 1 / bucket.per_second


async def take_all(core: Core, buckets: list[Bucket]) -> float:
    """Take from each bucket in order, stopping at the first empty one (its wait is the
    answer): list the narrowest first, so one address cannot spend a whole channel's."""
    for bucket in buckets:
        wait = await take(core, bucket)
        if wait > 0:
            return wait
    return 0.0
