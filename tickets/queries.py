"""Reads of tickets: the filtered, paged list (newest number first)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kith.core.context import Core
from kith.core.pagination import page
from kith.core.permissions import Scope
from kith.tickets.models import Priority, Status, Ticket
from kith.tickets.store import tickets, visible


class TicketFilter(BaseModel):
    """What a list asks for; each given field narrows it (values are compared, never
    read as operators)."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] = []
    priority: list[Priority] = []
    assignee_id: str | None = Field(default=None, max_length=64)
    team_id: str | None = Field(default=None, max_length=64)
    customer_id: str | None = Field(default=None, max_length=64)
    conversation_id: str | None = Field(default=None, max_length=64)
    tag: str | None = Field(default=None, max_length=64)
    # A number ("12" or "#12") or words of the subject, matched literally.
    q: str | None = Field(default=None, max_length=200)

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.q and self.q.strip():
            query["$or"] = _search(self.q.strip())
        if self.status:
            query["status"] = {"$in": [s.value for s in self.status]}
        if self.priority:
            query["priority"] = {"$in": [p.value for p in self.priority]}
        for name in ("assignee_id", "team_id", "customer_id"):
            value = getattr(self, name)
            if value is not None:
                query[name] = value
        if self.conversation_id is not None:
            query["conversation_ids"] = self.conversation_id
        if self.tag is not None:
            query["tags"] = self.tag
        return query


def _search(text: str) -> list[dict[str, Any]]:
    subject = {"subject": {"$regex": re.escape(text), "$options": "i"}}
    digits = text.removeprefix("#")
    if digits.isdigit() and len(digits) < 12:
        return [{"number": int(digits)}, subject]
    return [subject]


async def list_tickets(
    core: Core,
    workspace_id: str,
    scope: Scope | None,
    wanted: TicketFilter,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[Ticket], str | None]:
    base = visible(scope) if scope is not None else {"workspace_id": workspace_id}
    query = {"$and": [base, wanted.query()]} if wanted.query() else base
    docs, next_cursor = await page(
        tickets(core), query, "number", cursor=cursor, limit=limit, descending=True
    )
    return [Ticket.from_doc(d) for d in docs], next_cursor


CUSTOMER_PANEL_TICKETS = 20


async def customer_tickets(core: Core, scope: Scope, customer_id: str) -> list[Ticket]:
    """The newest tickets of a customer that `scope` may see (the inbox's customer panel)."""
    query = {"$and": [visible(scope), {"customer_id": customer_id}]}
    cursor = tickets(core).find(query).sort("number", -1).limit(CUSTOMER_PANEL_TICKETS)
    return [Ticket.from_doc(d) for d in await cursor.to_list(CUSTOMER_PANEL_TICKETS)]
