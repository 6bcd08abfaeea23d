"""Where tickets live, their numbers, and who may see which."""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.counters import increment
from kith.core.errors import NotFound
from kith.core.permissions import Scope
from kith.tickets.models import Ticket

TICKETS = "tickets"
NUMBERS = "ticket_numbers"


def tickets(core: Core) -> Any:
    return core.store.collection(TICKETS)


async def next_number(core: Core, workspace_id: str) -> int:
    """The workspace's next ticket number: one atomic increment, so racing creates never
    share a number (a create that fails after taking one leaves a gap; races do not)."""
    doc = await increment(core.store.collection(NUMBERS), workspace_id, "last")
    return int(doc["last"])


def visible(scope: Scope) -> dict[str, Any]:
    """The filter of the tickets `scope` may read: admins and marketers every ticket of the
    workspace; agents their teams' tickets, those assigned to them, and those of no team where
    the customer talks on one of their teams' channels (as for conversations)."""
    query: dict[str, Any] = {"workspace_id": scope.user.workspace_id}
    if scope.channel_ids is not None:
        query["$or"] = [
            {"team_id": None, "channel_ids": {"$in": sorted(scope.channel_ids)}},
            {"team_id": {"$in": sorted(scope.team_ids)}},
            {"assignee_id": scope.user.id},
        ]
    return query


async def get_ticket(
    core: Core, workspace_id: str, ticket_id: str, scope: Scope | None = None
) -> Ticket:
    """A ticket of the workspace (and visible to `scope`, when given): otherwise 404, so a
    team's tickets do not even exist for agents of other teams."""
    query = visible(scope) if scope is not None else {"workspace_id": workspace_id}
    doc = await tickets(core).find_one({**query, "_id": ticket_id})
    if doc is None or doc["workspace_id"] != workspace_id:
        raise NotFound("no such ticket", field="ticket_id")
    return Ticket.from_doc(doc)
