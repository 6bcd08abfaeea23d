"""A customer's reply on a conversation with tickets: the customer answered, so a pending
ticket opens again; a ticket solved within the workspace's `reopen_days` reopens; a closed
one, or one solved longer ago, stays as it was and a new ticket links it (`previous_ticket_id`)
and quotes the reply. A conversation with an active ticket keeps it: nothing else happens.

Handled by the tickets consumer, once per `message.received` (at least once: every effect
here is a no-op the second time, a move because the ticket has moved already, the new
ticket because its id derives from the event)."""

from __future__ import annotations

from datetime import timedelta

from kith.core.context import Core
from kith.core.models import Event, Message
from kith.tickets.actions import do_update_ticket
from kith.tickets.models import ACTIVE, Source, Status, Ticket, TicketIn, TicketPatch
from kith.tickets.opening import open_once
from kith.tickets.settings import TicketSettings
from kith.tickets.store import tickets

QUOTE_CHARS = 2000


async def _linked(core: Core, workspace_id: str, conversation_id: str) -> list[Ticket]:
    """The conversation's tickets, newest first (a conversation has a handful), but for
    duplicates merged into another: the one they live on in answers for them."""
    query = {"workspace_id": workspace_id, "conversation_ids": conversation_id, "merged_into": None}
    cursor = tickets(core).find(query)
    docs = await cursor.sort("number", -1).limit(50).to_list(50)
    return [Ticket.from_doc(d) for d in docs]


def _after(message: Message, ticket: Ticket) -> bool:
    """Whether the reply was written after the ticket's status last moved."""
    return ticket.status_at is None or message.created_at >= ticket.status_at


def quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())[:QUOTE_CHARS]


async def on_reply(
    core: Core, event: Event, message: Message, settings: TicketSettings
) -> Ticket | None:
    """What the reply did to the conversation's tickets: the ticket it opened again or
    opened, or None when it changed nothing."""
    assert event.conversation_id is not None
    linked = await _linked(core, event.workspace_id, event.conversation_id)
    if not linked:
        return None
    customer = event.actor
    patch = TicketPatch(status=Status.open)
    active = [t for t in linked if t.status in ACTIVE]
    if active:
        pending = [t for t in active if t.status == Status.pending and _after(message, t)]
        for ticket in pending:
            await do_update_ticket(core, ticket.workspace_id, ticket.id, patch, customer, ticket)
        return pending[0] if pending else None
    latest = linked[0]
    if not _after(message, latest):
        return None  # written before it was solved or closed: part of what was settled
    window = timedelta(days=settings.reopen_days)
    solved_at = latest.solved_at
    if latest.status == Status.solved and solved_at and core.clock.now() - solved_at <= window:
        return await do_update_ticket(core, latest.workspace_id, latest.id, patch, customer, latest)
    body = TicketIn(
        subject=latest.subject,
        description=quote(message.text),
        conversation_id=event.conversation_id,
        priority=latest.priority,
        team_id=latest.team_id,
    )
    return await open_once(
        core,
        event.workspace_id,
        f"reply:{event.id}",
        body,
        customer,
        Source.reply,
        previous_ticket_id=latest.id,
        message_id=message.id,
    )
