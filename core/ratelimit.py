"""Outbound rate limits shared by every Kith process (fixed windows counted in MongoDB).

Senders call `reserve()` before talking to a platform; a positive answer is how long to
wait, and the sender raises `DeliveryDeferred` so the outbox reschedules the message
without counting a failed attempt.

Why fixed windows here and token buckets (`kith.core.token_bucket`) for the widget: these
limits are the platforms' own quotas (Telegram's 30 a second per bot, a mail server's sends a
minute, WeChat's daily quota), which the platforms count per window, so a window here
matches what the platform will accept and the wait ends when its window does; one counter
raised a call is all it costs (`kith.core.counters`; opening a window takes a second round
trip). The widget's limits guard Kith against abuse and want the opposite shape: a burst,
then a smooth refill, with no window edge where twice the limit gets through, and a refused
call spending nothing. Both keep their counters in the `rate_limits` collection, whose
documents expire by `expires_after()`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from kith.core.clock import utcnow
from kith.core.context import Core
from kith.core.counters import increment


def expires_after(seconds: float) -> datetime:
    """When a `rate_limits` document that matters for `seconds` may go: the TTL monitor runs
    on the server's wall clock, not on Kith's clock, and gets a minute's slack."""
    return utcnow() + timedelta(seconds=seconds + 60)


async def reserve(core: Core, key: str, limit: int, per_seconds: float) -> float:
    """Count one send against `limit` per `per_seconds` for `key`; 0 if allowed, else the wait."""
    now = core.clock.now()
    window = math.floor(now.timestamp() / per_seconds)
    doc = await increment(
        core.store.rate_limits,
        f"{key}:{per_seconds}:{window}",
        "count",
        on_insert={"expires_at": expires_after(per_seconds * 2)},
    )
    if doc["count"] <= limit:
        return 0.0
    return (window + 1) * per_seconds - now.timestamp()


async def reserve_all(core: Core, limits: list[tuple[str, int, float]]) -> float:
    """Reserve under several limits at once (per bot and per chat); the longest wait wins."""
    waits = [await reserve(core, key, limit, per) for key, limit, per in limits]
    return max(waits, default=0.0)
