"""The demo's tickets. Settings: an angry customer escalates into a ticket (negative
sentiment, or a keyword such as 退款 / 退货 / refund / return: 李雷's sample asks to return a
shirt, and the demo bot's FAQ tells customers to reply "return" or 退货, which opens the ticket
an agent sends the label from), and the waiting rule is off, since at the demo clock's hour a
second every sample conversation would have waited "too long" at once. Samples: Grace's
delivery to Berlin, pending on her answer (its clocks paused), and Tom's angry third message,
urgent and open, so that a breach is near (the demo clock goes an hour per second); Ada's late
parcel is the survey's ticket (`csat_demo`). The agent finds them under Tickets."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.models import Author, AuthorKind
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.models import Priority, Source, Status, Ticket, TicketIn
from kith.tickets.settings import DEFAULT_KEYWORDS, TicketSettings, save_settings

DEMO_SETTINGS = TicketSettings(
    negative_sentiment=True,
    keywords_enabled=True,
    keywords=[*DEFAULT_KEYWORDS, "return"],
    waiting_enabled=False,
)


async def seed_demo_ticket_settings(core: Core, workspace_id: str) -> None:
    await save_settings(core, workspace_id, DEMO_SETTINGS)


AGENT = Author(kind=AuthorKind.agent, name="Demo Agent")
# (the customer's id on the demo's API channel, subject, priority, status)
TICKETS = (
    ("grace", "Shipping to Berlin: waiting for her address", Priority.low, Status.pending),
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
