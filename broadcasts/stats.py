"""A broadcast's figures, kept as counters moved with each recipient's transition.

The worker bumps `sent`, `skipped.<reason>`, `held` as it records each recipient; the
`broadcast-stats` consumer bumps `delivered`, `failed`, `replied` (a message from the
recipient within 72 h of their send) and `unsubscribed` (a consent revoked within 72 h), and
the tracked links bump `clicked` (`kith.broadcasts.links`), each once per recipient because
the recipient row is marked in the same conditional write.
Reads never recount. When a broadcast ends, the counters of the worker's moves (targeted,
sent, held, skipped) are recounted once from the rows, so that a process killed between a
recipient's write and its counter's leaves no lasting error; what recipients' messages and
recipients do after their send (delivered, failed, replied, unsubscribed, clicked) goes on
after the end, so it is not recounted then: a recount's `$set` would take back a bump
landing meanwhile. Clicks are made good all the same, from the rows' `clicked_at`
(`recount_clicks`, at the end and safe at any time after): their count is a floor the counter
is raised to, never a figure it is set to.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from kith.broadcasts.audience import recipients
from kith.broadcasts.models import RecipientStatus
from kith.core.context import Core
from kith.core.models import Event

WINDOW = timedelta(hours=72)
# A click's bump lands milliseconds after its row's mark, or never (its process died): a
# mark older than this is settled.
SETTLED = timedelta(minutes=1)
_UNSAFE = re.compile(r"[^a-z0-9_]")


def skipped_key(reason: str) -> str:
    """`skipped.<reason>`, the reason made a safe field name."""
    return f"skipped.{_UNSAFE.sub('_', reason.lower())[:64] or 'unknown'}"


async def bump(core: Core, broadcast_id: str, change: dict[str, int]) -> None:
    await core.store.collection("broadcasts").update_one(
        {"_id": broadcast_id}, {"$inc": {f"stats.{k}": v for k, v in change.items()}}
    )


async def recount(core: Core, broadcast_id: str, *, finished_at: datetime | None) -> None:
    """Targeted, sent, held and skipped by reason, counted from the rows (once, at the end),
    and the clicks whose bump was lost made good (`recount_clicks`)."""
    skipped: dict[str, int] = {}
    counts = {status: 0 for status in RecipientStatus}
    cursor = recipients(core).find({"broadcast_id": broadcast_id}, {"status": 1, "reason": 1})
    async for row in cursor:
        status = RecipientStatus(row["status"])
        counts[status] += 1
        if status == RecipientStatus.skipped:
            key = skipped_key(row.get("reason") or "unknown").removeprefix("skipped.")
            skipped[key] = skipped.get(key, 0) + 1
    update: dict[str, Any] = {
        "stats.targeted": sum(counts.values()),
        "stats.sent": counts[RecipientStatus.sent],
        "stats.held": counts[RecipientStatus.held],
        "stats.skipped": skipped,
    }
    if finished_at is not None:
        update["finished_at"] = finished_at
    await core.store.collection("broadcasts").update_one({"_id": broadcast_id}, {"$set": update})
    await recount_clicks(core, broadcast_id)


async def recount_clicks(core: Core, broadcast_id: str) -> None:
    """`clicked` made good from the rows' `clicked_at`, should a process have died between a
    recipient's mark and its bump (`kith.broadcasts.links.clicked`).

    A mark older than `SETTLED` was bumped or never will be, so the settled marks number no
    more than the clicks counted plus those lost: the counter is raised to their count
    (`$max`), never set. A click on its way (marked, its bump yet to land) is left to its
    bump, and a bump landing meanwhile is kept, so a recount counts no click twice, whenever
    it runs; one run when no click came within `SETTLED` makes the figure exact. A counted
    click stays counted when its customer is erased (their row goes), as with a bump."""
    settled = core.clock.now() - SETTLED
    marked = await recipients(core).count_documents(
        {"broadcast_id": broadcast_id, "clicked_at": {"$ne": None, "$lte": settled}}
    )
    await core.store.collection("broadcasts").update_one(
        {"_id": broadcast_id}, {"$max": {"stats.clicked": marked}}
    )


async def on_event(core: Core, event: Event) -> None:
    """The consumer: outcomes of broadcast messages and what recipients did after them."""
    if event.type in {"message.delivered", "message.failed"} and event.message_id:
        field = "delivered" if event.type == "message.delivered" else "failed"
        await _mark({"message_id": event.message_id}, f"{field}_at", field, core, event)
    elif event.type == "message.received" and event.customer_id:
        await _mark(_recent(core, event), "replied_at", "replied", core, event)
    elif event.type == "consent.changed" and event.customer_id and _revoked(event.data):
        await _mark(_recent(core, event), "unsubscribed_at", "unsubscribed", core, event)


def _revoked(data: dict[str, Any]) -> bool:
    return "revoked" in {data.get("state"), data.get("to"), data.get("consent")}


def _recent(core: Core, event: Event) -> dict[str, Any]:
    """The customer's recipient rows sent within 72 h before the event."""
    return {
        "customer_id": event.customer_id,
        "status": RecipientStatus.sent.value,
        "sent_at": {"$gte": event.created_at - WINDOW, "$lt": event.created_at},
    }


async def _mark(query: dict[str, Any], field: str, counter: str, core: Core, event: Event) -> None:
    """Mark each matching row once (the conditional write) and count only those marked."""
    rows = recipients(core)
    async for row in rows.find({**query, field: None}, {"broadcast_id": 1}):
        result = await rows.update_one(
            {"_id": row["_id"], field: None}, {"$set": {field: event.created_at}}
        )
        if result.modified_count:
            await bump(core, row["broadcast_id"], {counter: 1})
