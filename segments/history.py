"""Each segment's size over time, for its chart: one point per segment per hour (the last
size seen in that hour), kept for `KEPT`, so a busy segment stores 24 points a day at most."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from kith.core.clock import utcnow
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.segments.records import SIZES

KEPT = timedelta(days=90)


class SizePoint(BaseModel):
    at: datetime
    size: int


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


async def record_size(
    core: Core, workspace_id: str, segment_id: str, size: int, at: datetime
) -> None:
    hour = _hour(at)
    await core.store.collection(SIZES).update_one(
        {"_id": derived_id("segment-size", segment_id, hour.isoformat())},
        {
            "$set": {"size": size, "at": at},
            "$setOnInsert": {
                "segment_id": segment_id,
                "workspace_id": workspace_id,
                "hour": hour,
                "purge_at": utcnow() + KEPT,  # the TTL monitor's wall-clock time
            },
        },
        upsert=True,
    )


async def size_history(core: Core, segment_id: str, limit: int = 24 * 90) -> list[SizePoint]:
    docs = (
        await core.store.collection(SIZES)
        .find({"segment_id": segment_id}, {"hour": 1, "size": 1})
        .sort("hour", -1)
        .limit(limit)
        .to_list(limit)
    )
    return [SizePoint(at=d["hour"], size=d["size"]) for d in reversed(docs)]
