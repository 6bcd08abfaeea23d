"""Event consumers of the SLA clocks: replies meet them, breaches act.

- An agent's message on a ticket's linked conversation (`message.created` by an agent) meets
  its first reply, or its next one; the customer's next message (`message.received`) starts
  the next reply's clock again.
- A recorded `ticket.sla_breached` runs its policy's breach actions: raise the priority,
  reassign to a user or a team, notify a team with a note in the inbox on the ticket's
  conversation. Consumers run at least once, so every action is idempotent: the priority is
  raised from the one the breach saw (never twice), a reassignment is a plain set, and the
  note's id is derived from the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.errors import Conflict, NotFound
from kith.core.events import SYSTEM
from kith.core.ids import derived_id
from kith.core.models import AuthorKind, Event, OutboundContent, Wording
from kith.core.outbox import send
from kith.core.teams import get_team
from kith.tickets.actions import do_update_ticket
from kith.tickets.models import ACTIVE, PRIORITIES, Priority, TicketPatch
from kith.tickets.sla import on_agent_reply, on_customer_message, raised
from kith.tickets.sla_models import Metric, NotifyTeam, RaisePriority, Reassign, SlaPolicy
from kith.tickets.sla_store import get_policy
from kith.tickets.sla_tickets import apply_to_ticket
from kith.tickets.store import get_ticket, tickets

REPLY_TYPES = ("message.created", "message.received")
BREACH_TYPES = ("ticket.sla_breached",)
ATTEMPTS = 3


async def on_message(core: Core, event: Event) -> None:
    if event.conversation_id is None:
        return
    if event.type == "message.created":
        if event.actor.kind != AuthorKind.agent:
            return
        step = on_agent_reply
    else:
        step = on_customer_message
    open_statuses = [s.value for s in ACTIVE]
    cursor = tickets(core).find(
        {
            "conversation_ids": event.conversation_id,
            "workspace_id": event.workspace_id,
            "status": {"$in": open_statuses},
        },
        {"_id": 1},
    )
    for doc in await cursor.to_list():
        await apply_to_ticket(core, doc["_id"], event.created_at, step)


async def on_breach(core: Core, event: Event) -> None:
    data = event.data
    if not data.get("policy_id"):
        return
    try:
        policy = await get_policy(core, event.workspace_id, data["policy_id"])
    except NotFound:  # deleted since: nothing to act on
        return
    for attempt in range(ATTEMPTS):
        try:
            await _act(core, event, policy)
            return
        except Conflict:  # the ticket moved meanwhile: read it again now, not after a backoff
            if attempt == ATTEMPTS - 1:
                raise


async def _act(core: Core, event: Event, policy: SlaPolicy) -> None:
    data = event.data
    try:
        ticket = await get_ticket(core, event.workspace_id, data["ticket_id"])
    except NotFound:
        return
    if ticket.merged_into is not None:
        return  # merged since the breach: the duplicate is read-only, its target has its own
    metric = Metric(data["metric"])
    patch: dict[str, Any] = {}
    notes: list[NotifyTeam] = []
    for action in policy.breach_actions:
        if metric not in action.metrics:
            continue
        if isinstance(action, RaisePriority):
            wanted = raised(data["priority"], action.to)
            if PRIORITIES.index(ticket.priority) < PRIORITIES.index(Priority(wanted)):
                patch["priority"] = wanted
        elif isinstance(action, Reassign):
            patch |= {k: v for k in ("user_id", "team_id") if (v := getattr(action, k))}
        else:
            notes.append(action)
    if "user_id" in patch:
        patch["assignee_id"] = patch.pop("user_id")
    if patch:
        changes = TicketPatch(**patch)
        await do_update_ticket(core, event.workspace_id, ticket.id, changes, ticket=ticket)
    for n, note in enumerate(notes):
        await _notify(core, event, note, n, data["due_at"])


async def _notify(core: Core, event: Event, note: NotifyTeam, n: int, due_at: datetime) -> None:
    if event.conversation_id is None:
        return
    try:
        team = await get_team(core, event.workspace_id, note.team_id)
        conversation = await get_conversation(core, event.workspace_id, event.conversation_id)
    except NotFound:
        return
    metric = event.data["metric"].replace("_", " ")
    text = (
        f"@{team.name}: SLA breached on ticket #{event.data['number']}: "
        f"{metric} was due at {due_at:%Y-%m-%d %H:%M} UTC."
    )
    content = OutboundContent(text=text, private=True)
    wording = Wording(
        key="sla_breached",
        values={"team": team.name, "number": event.data["number"], "due_at": due_at.isoformat()},
        terms={"metric": f"ticket_sla_{event.data['metric']}"},
    )
    await send(
        core,
        conversation,
        content,
        SYSTEM,
        message_id=derived_id("sla-note", event.id, str(n)),
        wording=wording,
    )
