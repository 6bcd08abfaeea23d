"""The SLA worker: every `kith serve` process runs one.

A sweep claims a bounded batch of tickets whose `sla_next_at` has passed (one range over its
index, so a sweep costs the tickets due, never the open ones) with a token and a lease written
into each; a killed worker's claims come back when their lease runs out. For each claimed
ticket it marks the warnings and breaches due (`kith.tickets.sla.fire`), records them as
`ticket.sla_warning` / `ticket.sla_breached` events with ids derived from (ticket, metric,
kind, due moment), then writes the marked clocks and the next `sla_next_at`, conditional on
its claim and the clocks' revision. Events first: a worker that dies after recording leaves
events that its successor's identical ids make no-ops. The breach actions run right after
(`kith.tickets.sla_actions`), and again from the recorded events in a consumer, which finds
them done, or does them if this worker died first.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from pymongo import UpdateOne

from kith.core.clock import wall
from kith.core.context import Core
from kith.core.events import build_event, record_many
from kith.core.ids import derived_id, new_id
from kith.core.leases import unleased, worker_owner
from kith.core.models import Event
from kith.core.waiting import wait_any
from kith.tickets.models import Ticket
from kith.tickets.sla import Alert, fire, next_at
from kith.tickets.sla_actions import BREACH_TYPES, on_breach
from kith.tickets.store import tickets

log = logging.getLogger(__name__)
LEASE = "sla_lease_until"


def alert_id(ticket_id: str, alert: Alert) -> str:
    return derived_id(
        "ticket-sla", ticket_id, alert.metric.value, alert.kind, alert.due_at.isoformat()
    )


class SlaWorker:
    def __init__(
        self,
        core: Core,
        owner: str | None = None,
        *,
        batch: int = 500,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self.core = core
        self.owner = worker_owner(owner)
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.poll = poll_seconds

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("SLA sweep failed")
                handled = 0
            if handled < self.batch:  # a full batch: more may be due at once
                await wait_any((stop,), self.poll)

    async def run_once(self) -> int:
        """Claim one batch of due tickets and act on them; how many were claimed."""
        claimed, token = await self.claim()
        if claimed:
            await self.act(claimed, token)
        return len(claimed)

    async def claim(self) -> tuple[list[Ticket], str]:
        """Due times are Kith's clock, leases real seconds (`wall`: the demo's clock runs an
        hour a second, which would end a minute's lease in 17 ms)."""
        now, held = self.core.clock.now(), wall(self.core.clock).now()
        due: dict[str, Any] = {"sla_next_at": {"$lte": now}, **unleased(held, LEASE)}
        rows = tickets(self.core)
        cursor = rows.find(due, {"_id": 1}, sort=[("sla_next_at", 1)], limit=self.batch)
        ids = [doc["_id"] async for doc in cursor]
        token = new_id()
        if not ids:
            return [], token
        lease = {LEASE: held + self.lease, "sla_claim": token, "sla_owner": self.owner}
        await rows.update_many({**due, "_id": {"$in": ids}}, {"$set": lease})
        won = await rows.find({"_id": {"$in": ids}, "sla_claim": token}).to_list()
        return [Ticket.from_doc(doc) for doc in won], token

    async def act(self, claimed: list[Ticket], token: str) -> None:
        now = self.core.clock.now()
        events: list[Event] = []
        writes: list[UpdateOne] = []
        for ticket in claimed:
            if ticket.sla is None:
                continue
            sla, alerts = fire(ticket.sla, now)
            events.extend(self._event(ticket, alert, now) for alert in alerts)
            writes.append(
                UpdateOne(
                    {"_id": ticket.id, "sla_claim": token, "sla.rev": ticket.sla.rev},
                    {
                        "$set": {
                            "sla": sla.model_dump(mode="python"),
                            "sla_next_at": next_at(sla),
                            LEASE: None,
                        }
                    },
                )
            )
        await record_many(self.core, events)
        if writes:
            await tickets(self.core).bulk_write(writes, ordered=False)
        # Clocks changed meanwhile by a ticket action: handed back, the next sweep sees them.
        await tickets(self.core).update_many(
            {"_id": {"$in": [t.id for t in claimed]}, "sla_claim": token, LEASE: {"$ne": None}},
            {"$set": {LEASE: None}},
        )
        breaches = [event for event in events if event.type in BREACH_TYPES]
        await asyncio.gather(*(self._act_on(event) for event in breaches))

    async def _act_on(self, breach: Event) -> None:
        """Run a breach's actions now, not one consumer hop later (the hop was the tail of
        the lateness at 100,000 open tickets). The `ticket-sla-actions` consumer still gets
        the recorded event: it is the at-least-once path when this fails or the process dies
        here, and the actions are idempotent, so when both run the second finds nothing to do."""
        try:
            await on_breach(self.core, breach)
        except Exception:
            log.warning("breach actions of %s left to the consumer", breach.id, exc_info=True)

    def _event(self, ticket: Ticket, alert: Alert, now: datetime) -> Event:
        kind = "ticket.sla_breached" if alert.kind == "breached" else "ticket.sla_warning"
        assert ticket.sla is not None
        return build_event(
            self.core,
            ticket.workspace_id,
            kind,
            event_id=alert_id(ticket.id, alert),
            conversation_id=ticket.conversation_ids[0] if ticket.conversation_ids else None,
            customer_id=ticket.customer_id,
            data={
                "ticket_id": ticket.id,
                "number": ticket.number,
                "metric": alert.metric.value,
                "due_at": alert.due_at,
                "policy_id": ticket.sla.policy_id,
                "priority": ticket.priority.value,
                "team_id": ticket.team_id,
                "assignee_id": ticket.assignee_id,
                "late_seconds": (now - alert.due_at).total_seconds(),
            },
        )
