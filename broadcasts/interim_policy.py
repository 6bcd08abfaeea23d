"""The courtesy contract's shape, used only until `kith.courtesy.policy` lands on main.

It decides the least the contract promises (the first preferred channel type the customer
has an identity on and has not revoked; `send_by` passed is a skip) and applies no quiet
hours and no daily cap. Deleted when the real policy is merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kith.core.context import Core
from kith.core.models import ConsentState, Customer


@dataclass(frozen=True)
class Route:
    channel_id: str
    channel_type: str
    external_id: str


@dataclass(frozen=True)
class Go:
    route: Route


@dataclass(frozen=True)
class Hold:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Skip:
    reason: str


async def decide(
    core: Core,
    customer: Customer,
    channels: Sequence[str],
    now: datetime,
    send_by: datetime | None,
) -> Go | Hold | Skip:
    if send_by is not None and now > send_by:
        return Skip("send_by_passed")
    for channel_type in channels:
        consent = customer.consent.get(channel_type)
        if consent is not None and consent.state == ConsentState.revoked:
            continue
        doc = await core.store.identities.find_one(
            {"customer_id": customer.id, "channel_type": channel_type}, sort=[("created_at", -1)]
        )
        if doc is not None:
            return Go(Route(doc["channel_id"], channel_type, doc["external_id"]))
    return Skip("no_reachable_channel")


async def take_daily_slot(core: Core, customer: Customer, now: datetime, key: str) -> bool:
    return True
