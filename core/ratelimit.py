"""Outbound rate limits shared by every Kith process (fixed windows counted in MongoDB).

Senders call `reserve()` before talking to a platform; a positive answer is how long to
wait, and the sender raises `DeliveryDeferred` so the outbox reschedules the message
without counting a failed attempt.
"""

from __future__ import annotations

import math
from datetime import timedelta

from kith.core.clock import utcnow
from kith.core.context import Core


async def reserve(core: Core, key: str, limit: int, per_seconds: float) -> float:
    """Count one send against `limit` per `per_seconds` for `key`; 0 if allowed, else the wait."""
    now = core.clock.now()
    window = math.floor(now.timestamp() / per_seconds)
    doc = await core.store.rate_limits.find_one_and_update(
        {"_id": f"{key}:{per_seconds}:{window}"},
        {
            "$inc": {"count": 1},
            # The TTL monitor runs on the server's wall clock, not on Kith's clock.
            "$setOnInsert": {"expires_at": utcnow() + timedelta(seconds=per_seconds * 2 + 60)},
        },
        upsert=True,
        return_document=True,
    )
    assert doc is not None  # upserted, and the document after the update is returned
    if doc["count"] <= limit:
        return 0.0
    return (window + 1) * per_seconds - now.timestamp()


async def reserve_all(core: Core, limits: list[tuple[str, int, float]]) -> float:
    """Reserve under several limits at once (per bot and per chat); the longest wait wins."""
    waits = [await reserve(core, key, limit, per) for key, limit, per in limits]
    return max(waits, default=0.0)
