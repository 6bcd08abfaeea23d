"""Named leases in MongoDB: one holder at a time across all Kith processes.

Pollers (Telegram long polling, IMAP) and singleton jobs take a lease per resource and
renew it while they work; when a holder dies its lease expires and another process takes
over within one lease period. Leases last real seconds (`kith.core.clock.wall`), also when
the demo's clock runs an hour a second.
"""

from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from kith.core.clock import wall

if TYPE_CHECKING:
    from kith.core.context import Core


def worker_owner(owner: str | None = None) -> str:
    """Who holds a worker's leases: `owner` if given, else `host:random`, so that an admin can
    tell which machine holds a claim and two processes on one host never share one."""
    return owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


async def acquire(core: Core, name: str, owner: str, seconds: float) -> bool:
    """Take or renew the lease `name` for `owner`; False while someone else holds it."""
    now = wall(core.clock).now()
    until = now + timedelta(seconds=seconds)
    try:
        await core.store.leases.find_one_and_update(
            {"_id": name, "$or": [{"owner": owner}, {"until": {"$lte": now}}]},
            {"$set": {"owner": owner, "until": until}},
            upsert=True,
        )
    except DuplicateKeyError:  # held by another owner: the upsert collided with it
        return False
    return True


async def release(core: Core, name: str, owner: str) -> None:
    await core.store.leases.delete_one({"_id": name, "owner": owner})


async def holder(core: Core, name: str) -> str | None:
    doc = await core.store.leases.find_one({"_id": name})
    if doc is None or doc["until"] <= wall(core.clock).now():
        return None
    return str(doc["owner"])


def unleased(now: datetime, field: str = "lease_until") -> dict[str, Any]:
    """A row no worker holds: never leased, or its lease (in `field`) ran out."""
    return {"$or": [{field: None}, {field: {"$lte": now}}]}
