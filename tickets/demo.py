"""The demo's tickets: Ada's late parcel, pending on her answer (its clocks paused), and
Tom's angry third message, urgent and open, so that a breach is near once SLA policies run
(the demo clock goes an hour per second). The agent finds both under Tickets."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.models import Author, AuthorKind
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.models import Priority, Source, Status, Ticket, TicketIn

AGENT = Author(kind=AuthorKind.agent, name="Demo Agent")
# (the customer's id on the demo's API channel, subject, priority, status)
TICKETS = (
    ("ada", "Order #1042 has not arrived", Priority.normal, Status.pending),
    ("tom", "Third complaint: no answer yet", Priority.urgent, Status.open),
)


async def seed_demo_tickets(core: Core, workspace_id: str, channel_id: str) -> list[Ticket]:
    made = []
    for external_id, subject, priority, status in TICKETS:
        identity = await core.store.identities.find_one(
            {"workspace_id": workspace_id, "channel_id": channel_id, "external_id": external_id}
        )
        if identity is None:
            continue
        conversation = await core.store.conversations.find_one(
            {"workspace_id": workspace_id, "customer_id": identity["customer_id"]}, {"_id": 1}
        )
        if conversation is None:
            continue
        body = TicketIn(subject=subject, conversation_id=conversation["_id"], priority=priority)
        ticket = await do_create_ticket(core, workspace_id, body, AGENT, source=Source.agent)
        made.append(await do_move_ticket(core, workspace_id, ticket.id, status, AGENT))
    return made
