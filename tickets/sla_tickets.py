"""The SLA clocks on the ticket document: what the ticket actions and the reply consumer write.

Every write of a ticket's `sla` is conditional on the `sla.rev` it was computed from (and the
ticket actions' own condition on the status), so the clocks and the ticket's status, priority
and team never disagree, and a worker's warning or breach marked meanwhile is never written
over: the loser reads the ticket again and computes once more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kith.core.context import Core
from kith.core.errors import Conflict
from kith.tickets.models import Ticket
from kith.tickets.sla import Terms, next_at, on_status, open_sla, retarget
from kith.tickets.sla_models import TicketSla
from kith.tickets.sla_store import business_calendar, terms_for
from kith.tickets.store import tickets

SLA_FIELDS = frozenset({"status", "priority", "team_id"})
ATTEMPTS = 5
Step = Callable[[TicketSla, Terms, datetime], TicketSla]


async def open_clocks(core: Core, ticket: Ticket) -> None:
    """Start a new ticket's clocks (before it is inserted, so it is never without them)."""
    terms = await terms_for(core, ticket.workspace_id, ticket.team_id, ticket.priority.value)
    ticket.sla = open_sla(terms, ticket.status.value, ticket.created_at)
    ticket.sla_next_at = next_at(ticket.sla)


def guard(ticket: Ticket) -> dict[str, Any]:
    """The condition that the ticket's clocks are still those it was read with."""
    return {"sla.rev": ticket.sla.rev} if ticket.sla else {"sla": None}


async def changed_clocks(
    core: Core, before: Ticket, changes: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The `$set` fields of a change of status, priority or team: the clocks banked under
    the terms they ran with, then run under the ticket's new terms (its team may have
    another policy); nothing if none of those change."""
    if not SLA_FIELDS & changes.keys():
        return {}
    priority = changes.get("priority", before.priority.value)
    team_id = changes["team_id"] if "team_id" in changes else before.team_id
    terms = await terms_for(core, before.workspace_id, team_id, priority)
    if before.sla is None:  # a ticket from before SLAs: its clocks start now
        sla = open_sla(terms, before.status.value, now)
    else:
        ran_in = await business_calendar(core, before.workspace_id, before.sla.calendar_id)
        sla = retarget(before.sla, ran_in, terms, now)
    if "status" in changes:
        sla = on_status(sla, terms, before.status.value, changes["status"], now)
    return stored(sla)


def stored(sla: TicketSla) -> dict[str, Any]:
    return {"sla": sla.model_dump(mode="python"), "sla_next_at": next_at(sla)}


async def apply_to_ticket(core: Core, ticket_id: str, at: datetime, step: Step) -> bool:
    """Run `step` on a ticket's clocks (under its current terms) in a conditional update,
    again on a fresh read while another write wins; False if the ticket has no clocks."""
    for _ in range(ATTEMPTS):
        doc = await tickets(core).find_one({"_id": ticket_id})
        if doc is None or doc.get("sla") is None:
            return False
        ticket = Ticket.from_doc(doc)
        assert ticket.sla is not None
        terms = await terms_for(core, ticket.workspace_id, ticket.team_id, ticket.priority.value)
        ran_in = await business_calendar(core, ticket.workspace_id, ticket.sla.calendar_id)
        # Never before the clocks last started: that time is already banked.
        since = [c.running_since for c in ticket.sla.metrics.values() if c.running_since]
        now = max([at, *since])
        sla = step(retarget(ticket.sla, ran_in, terms, now), terms, now)
        result = await tickets(core).update_one(
            {"_id": ticket_id, **guard(ticket)}, {"$set": stored(sla)}
        )
        if result.matched_count:
            return True
    raise Conflict("the ticket's clocks kept changing", field="sla")
