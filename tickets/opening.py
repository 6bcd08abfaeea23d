"""Opening a ticket because something happened (a rule, a bot step, a reply), at most once.

Consumers and bot turns run at least once, so the ticket's id derives from its cause: a run
that finds the ticket already stored returns it (and records its `ticket.created` again,
which is a no-op unless the earlier run died between the two writes).
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.models import Author
from kith.tickets.actions import do_create_ticket, record_created
from kith.tickets.models import ACTIVE, Source, Ticket, TicketIn
from kith.tickets.store import tickets


def cause_ticket_id(workspace_id: str, cause: str) -> str:
    return derived_id("ticket", workspace_id, cause)


async def opened_by(core: Core, workspace_id: str, cause: str) -> Ticket | None:
    """The ticket `cause` already opened (its `ticket.created` recorded again, a no-op unless
    the run that opened it died in between), or None."""
    found = await tickets(core).find_one({"_id": cause_ticket_id(workspace_id, cause)})
    if found is None:
        return None
    ticket = Ticket.from_doc(found)
    await record_created(core, ticket)
    return ticket


async def open_once(
    core: Core,
    workspace_id: str,
    cause: str,
    body: TicketIn,
    actor: Author,
    source: Source,
    previous_ticket_id: str | None = None,
    message_id: str | None = None,
) -> Ticket:
    """The ticket `cause` opens: opened now, or found as an earlier run left it."""
    ticket = await opened_by(core, workspace_id, cause)
    if ticket is not None:
        return ticket
    try:
        return await do_create_ticket(
            core,
            workspace_id,
            body,
            actor,
            source=source,
            previous_ticket_id=previous_ticket_id,
            ticket_id=cause_ticket_id(workspace_id, cause),
            message_id=message_id,
        )
    except DuplicateKeyError:  # a concurrent run of the same cause stored it first
        ticket = await opened_by(core, workspace_id, cause)
        if ticket is None:
            raise
        return ticket


async def active_ticket(core: Core, workspace_id: str, conversation_id: str) -> Ticket | None:
    """The conversation's newest ticket still being worked on, if any."""
    doc = await tickets(core).find_one(
        {
            "workspace_id": workspace_id,
            "conversation_ids": conversation_id,
            "status": {"$in": sorted(s.value for s in ACTIVE)},
        },
        sort=[("number", -1)],
    )
    return Ticket.from_doc(doc) if doc else None
