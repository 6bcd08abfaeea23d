"""The survey in `kith demo`: a ticket on Ada's conversation (the API channel) for the agent
to solve, and survey settings that suit the demo clock (an hour a second would close a
72-hour answer window in 72 real seconds)."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.models import Channel
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.csat_models import CsatSettings
from kith.tickets.csat_store import save_settings
from kith.tickets.models import Status, TicketIn

DEMO_ANSWER_HOURS = 8760  # a year of demo time: about two and a half real hours


async def seed_demo_csat(core: Core, workspace_id: str, channel: Channel) -> str | None:
    """An open ticket on Ada's conversation; its id, or None if she is not there."""
    await save_settings(core, workspace_id, CsatSettings(answer_hours=DEMO_ANSWER_HOURS))
    conversation = await core.store.conversations.find_one(
        {"workspace_id": workspace_id, "channel_id": channel.id, "external_user_id": "ada"}
    )
    if conversation is None:
        return None
    body = TicketIn(subject="Order #1042 has not arrived", conversation_id=conversation["_id"])
    ticket = await do_create_ticket(core, workspace_id, body)
    await do_move_ticket(core, workspace_id, ticket.id, Status.open)
    return ticket.id


def csat_lines(url: str, api_token: str, ticket_id: str | None) -> list[str]:
    """How to see the survey: solve Ada's ticket, then answer as Ada."""
    if ticket_id is None:
        return []
    return [
        "  Satisfaction: solve Ada's ticket (Order #1042), and she is asked to rate it:",
        f"    curl -X PATCH -H 'Authorization: Bearer {api_token}' "
        "-H 'Content-Type: application/json' "
        f'-d \'{{"status": "solved"}}\' {url}/api/v1/tickets/{ticket_id}',
        "    answer as Ada with `kith chat … --user-id ada` (below): 1–5, 五星 or ５; after",
        "    1 or 2 she is asked why. The answer: GET /api/v1/tickets/{id} (`csat`), and",
        f"    the report: {url}/app/tickets/reports (API: /api/v1/tickets/csat). In the web",
        "    widget, a ticket opened from your conversation (POST /api/v1/tickets",
        "    {conversation_id}) and solved shows stars.",
    ]
