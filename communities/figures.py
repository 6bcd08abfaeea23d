"""The customer's community figures, kept on their document for segments (as `orders` are):
`communities` = {ids: the communities they are in now, joined_at: their latest join among
them} and `referrals` = {count: their credited referrals, every community}.

The `community-figures` consumer recomputes both from the roster and the referral rows
rather than incrementing, so a redelivered event, a merge that moved members or a crash
halfway counts nothing twice; `rev` settles two writers racing (see `kith.orders.summary`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kith.communities.models import MemberStatus
from kith.communities.referrals import ReferralStatus, referrals
from kith.communities.store import members
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.models import Event
from kith.segments.filters import FieldSpec, Kind

ATTEMPTS = 5
SEGMENT_FIELDS = (
    FieldSpec("communities", "communities.ids", Kind.tags),
    FieldSpec("communities.joined_at", "communities.joined_at", Kind.date),
    FieldSpec("referrals.count", "referrals.count", Kind.number, absent_is_zero=True),
)
TYPES = (
    "community.member_joined",
    "community.member_left",
    "community.referral_credited",
    "community.referral_revoked",
    "customer.merged",
    "customer.unmerged",
)


async def compute(core: Core, customer_id: str) -> dict[str, dict[str, Any]]:
    ids: list[str] = []
    latest: datetime | None = None
    query = {"customer_id": customer_id, "status": MemberStatus.member.value}
    async for doc in members(core).find(query, {"community_id": 1, "joined_at": 1}):
        ids.append(str(doc["community_id"]))
        if latest is None or doc["joined_at"] > latest:
            latest = doc["joined_at"]
    count = await referrals(core).count_documents(
        {"referrer_id": customer_id, "status": ReferralStatus.credited.value}
    )
    return {
        "communities": {"ids": sorted(set(ids)), "joined_at": latest},
        "referrals": {"count": int(count)},
    }


async def refresh(core: Core, workspace_id: str, customer_id: str) -> None:
    """Bring the customer's `communities` and `referrals` in line; a change is recorded as
    `customer.updated` naming the fields, so segments follow."""
    customers = core.store.customers
    for _ in range(ATTEMPTS):
        doc = await customers.find_one(
            {"_id": customer_id, "workspace_id": workspace_id, "merged_into": None},
            {"communities": 1, "referrals": 1, "community_figures_rev": 1},
        )
        if doc is None:
            return
        figures = await compute(core, customer_id)
        changed = sorted(k for k, v in figures.items() if _stored(doc.get(k)) != _stored(v))
        if not changed:
            return
        rev = doc.get("community_figures_rev")
        written = await customers.update_one(
            {"_id": customer_id, "community_figures_rev": rev},
            {"$set": {**figures, "community_figures_rev": (rev or 0) + 1}},
        )
        if written.matched_count:
            event = build_event(
                core,
                workspace_id,
                "customer.updated",
                customer_id=customer_id,
                data={"fields": changed},
            )
            await record(core, event)
            return
    raise RuntimeError("the customer's community figures kept changing: retried too often")


def _stored(value: Any) -> Any:
    """Compared as stored: MongoDB keeps milliseconds and drops the zone."""
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=value.microsecond // 1000 * 1000)
    return value


async def consume(core: Core, event: Event) -> None:
    """The `community-figures` consumer: the member's customer (joins, leaves), the referrer
    (credits, revocations), or both customers of a merge."""
    named = [event.customer_id, event.data.get("merged_id"), event.data.get("restored_id")]
    for customer_id in named:
        if isinstance(customer_id, str):
            await refresh(core, event.workspace_id, customer_id)
