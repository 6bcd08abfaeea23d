"""Deliveries logged before `purge_at` existed get one when the webhooks feature starts, so
the TTL index drops them too; those that have one keep it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from kith.core.clock import ManualClock, aware
from kith.core.context import Core
from kith.webhooks.feature import feature
from kith.webhooks.models import KEEP_DELIVERIES, Delivery, DeliveryStatus
from kith.webhooks.store import backfill_purge_at, deliveries

DAY = timedelta(days=1)


def logged(
    workspace_id: str,
    name: str,
    created_at: datetime,
    *,
    last_attempt_at: datetime | None = None,
    purge_at: datetime | None = None,
) -> dict[str, Any]:
    """A delivery as stored; without `purge_at` when none is given, as before it existed."""
    doc = Delivery(
        id=f"msg_{name}",
        workspace_id=workspace_id,
        endpoint_id="ep_1",
        event_id=f"ev_{name}",
        type="message.created",
        body="{}",
        status=DeliveryStatus.succeeded if last_attempt_at else DeliveryStatus.failed,
        attempts=1 if last_attempt_at else 0,
        created_at=created_at,
        last_attempt_at=last_attempt_at,
        purge_at=purge_at,
    ).to_doc()
    if purge_at is None:
        del doc["purge_at"]
    return doc


async def purge_dates(core: Core) -> dict[str, datetime | None]:
    found = deliveries(core).find({}, {"purge_at": 1})
    return {d["_id"]: aware(d["purge_at"]) if d.get("purge_at") else None async for d in found}


async def start_and_stop(core: Core) -> None:
    """What `kith serve` runs for the feature as it starts, told to stop at once."""
    stop = asyncio.Event()
    stop.set()
    await asyncio.gather(*(loop(stop) for loop in feature(core).background))


async def test_old_deliveries_are_dated_for_expiry_when_the_feature_starts(
    hooked: Core, workspace_id: str, clock: ManualClock
) -> None:
    """Regression: deliveries stored before `purge_at` existed were never expired. (The dates
    stay ahead of the clock: a TTL monitor may drop what is due, the embedded one at once.)"""
    now = clock.now()
    kept_until = now + 5 * DAY
    await deliveries(hooked).insert_many(
        [
            logged(workspace_id, "tried", now - 40 * DAY, last_attempt_at=now - 20 * DAY),
            logged(workspace_id, "never_tried", now - 10 * DAY),
            logged(workspace_id, "dated", now - 50 * DAY, purge_at=kept_until),
        ]
    )

    await start_and_stop(hooked)

    assert await purge_dates(hooked) == {
        "msg_tried": now - 20 * DAY + KEEP_DELIVERIES,
        "msg_never_tried": now - 10 * DAY + KEEP_DELIVERIES,
        "msg_dated": kept_until,
    }
    clock.advance(3600)
    await start_and_stop(hooked)  # the next start: nothing left to do, nothing moves
    assert (await purge_dates(hooked))["msg_tried"] == now - 20 * DAY + KEEP_DELIVERIES


async def test_the_backfill_goes_in_batches_and_twice_is_once(
    hooked: Core, workspace_id: str, clock: ManualClock
) -> None:
    now = clock.now()
    await deliveries(hooked).insert_many(
        [logged(workspace_id, f"d{i}", now - i * DAY) for i in range(5)]
    )

    assert await backfill_purge_at(hooked, batch=2) == 5
    assert await backfill_purge_at(hooked, batch=2) == 0

    assert await purge_dates(hooked) == {
        f"msg_d{i}": now - i * DAY + KEEP_DELIVERIES for i in range(5)
    }
