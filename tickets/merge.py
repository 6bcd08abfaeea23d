"""Merging a duplicate ticket into another (Zendesk's and Freshdesk's "merge"): the target
gains the duplicate's conversations and tags, the duplicate is closed with `merged_into`
naming the target, and each timeline says so ("Merged into #12", "#7 merged into this
ticket", the events `ticket.merged` and `ticket.merged_in`, worded in the page's language).

Closing the duplicate is a system move: it bypasses `MOVES` (a new or open ticket may not be
closed by hand, only solved first), because the duplicate is not solved, it lives on in the
target. Its SLA clocks stop as a close stops them (`kith.tickets.sla.on_status`), so it is
neither warned nor breached again; and no survey is asked (the survey follows a solve).

Only tickets of one customer merge (Zendesk allows another requester; Kith keeps it simple:
merge the customers first, which moves their tickets). A closed or merged ticket neither
merges nor receives. The duplicate is claimed by one conditional update on the status and
`merged_into` it was read with, so of two merges racing on it only one wins (the other is
refused as merged); a retried merge (same source, same target) finishes what the first began
and answers the same, writing nothing twice (the events' ids derive from the pair).

A merged duplicate is read-only, as Zendesk's closed tickets are: every write on it (a reply,
a note, a move, a field, a link, a merge into another) is refused with 409 `ticket_merged`
(`ensure_not_merged`), naming the ticket it lives on in; reads stay.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pymongo import ReturnDocument

from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, KithError, NotFound
from kith.core.events import SYSTEM, build_event, record
from kith.core.ids import derived_id
from kith.core.models import Author
from kith.core.permissions import Scope
from kith.tickets.models import Status, Ticket
from kith.tickets.sla_tickets import changed_clocks, guard
from kith.tickets.store import get_ticket, tickets, visible

ATTEMPTS = 5  # the duplicate's claim, tried again while only its clocks or status moved
NUMBER = re.compile(r"#?(\d{1,11})")


class MergeIn(BaseModel):
    """`into`: the target's id, or its number ("12" or "#12")."""

    model_config = ConfigDict(extra="forbid")

    into: str = Field(min_length=1, max_length=64)


class Merge(BaseModel):
    """What a merge answers: the duplicate (closed, `merged_into` set) and the target."""

    ticket: Ticket
    into: Ticket


async def find_target(core: Core, workspace_id: str, into: str, scope: Scope | None) -> Ticket:
    """The ticket `into` names, by number or id, among those `scope` sees: else 404 on `into`."""
    query = visible(scope) if scope is not None else {"workspace_id": workspace_id}
    number = NUMBER.fullmatch(into.strip())
    key: dict[str, Any] = {"number": int(number.group(1))} if number else {"_id": into}
    doc = await tickets(core).find_one({**query, **key, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such ticket", field="into")
    return Ticket.from_doc(doc)


def merged_refusal(ticket: Ticket) -> Conflict | None:
    """The refusal of any write on a merged duplicate: 409 on `ticket_id`, naming the ticket
    it was merged into (`limits`: its id and number, for the page to word and link)."""
    if ticket.merged_into is None:
        return None
    number = ticket.merged_into_number
    return Conflict(
        f"#{ticket.number} is merged into #{number}: write on that ticket",
        field="ticket_id",
        reason="ticket_merged",
        limits={"merged_into": ticket.merged_into, "number": number or 0},
    )


def ensure_not_merged(ticket: Ticket) -> None:
    """Refuse a write on `ticket` if it is a merged duplicate (see `merged_refusal`)."""
    if (refusal := merged_refusal(ticket)) is not None:
        raise refusal


def _refusal(source: Ticket, target: Ticket) -> KithError | None:
    if (merged := merged_refusal(source)) is not None:
        return merged
    if source.status == Status.closed:
        return InvalidInput(
            "a closed ticket cannot be merged", field="ticket_id", reason="merge_source_closed"
        )
    if target.id == source.id:
        return InvalidInput(
            "a ticket cannot be merged into itself", field="into", reason="merge_self"
        )
    if target.merged_into is not None or target.status == Status.closed:
        return InvalidInput(
            f"#{target.number} is closed: merge into an open ticket",
            field="into",
            reason="merge_closed",
            limits={"number": target.number},
        )
    if target.customer_id != source.customer_id:
        return InvalidInput(
            "the tickets are different customers': merge the customers first",
            field="into",
            reason="merge_other_customer",
        )
    return None


async def do_merge_ticket(
    core: Core,
    workspace_id: str,
    ticket_id: str,
    into: str,
    actor: Author = SYSTEM,
    scope: Scope | None = None,
    ticket: Ticket | None = None,
) -> Merge:
    """Merge ticket `ticket_id` (read again unless given, as `scope` sees it) into the ticket
    `into` names (see the module's docstring)."""
    source = ticket or await get_ticket(core, workspace_id, ticket_id, scope)
    target = await find_target(core, workspace_id, into, scope)
    for _ in range(ATTEMPTS):
        if source.merged_into == target.id:
            break  # merged already (a retry, or the winner of a race with the same target)
        refusal = _refusal(source, target)
        if refusal is not None:
            raise refusal
        claimed = await _claim(core, source, target, actor)
        if claimed is not None:
            source = claimed
            break
        source = await get_ticket(core, workspace_id, ticket_id)
    else:
        raise Conflict("the ticket kept changing: load it again", field="ticket_id")
    return Merge(ticket=source, into=await _absorb(core, source, target, actor))


async def _claim(core: Core, source: Ticket, target: Ticket, actor: Author) -> Ticket | None:
    """Close the duplicate with `merged_into` set, in one update conditional on what it was
    read with (its status, no merge yet, its clocks): None if it changed meanwhile."""
    now = core.clock.now()
    update: dict[str, Any] = {
        "merged_into": target.id,
        "merged_into_number": target.number,
        "status": Status.closed.value,
        "status_at": now,
        "closed_at": now,
        "updated_at": now,
    }
    if source.status != Status.closed:
        update |= await changed_clocks(core, source, {"status": Status.closed.value}, now)
    current = {
        "_id": source.id,
        "workspace_id": source.workspace_id,
        "status": source.status.value,
        "merged_into": None,
        **guard(source),
    }
    doc = await tickets(core).find_one_and_update(
        current, {"$set": update}, return_document=ReturnDocument.AFTER
    )
    if doc is None:
        return None
    closed = Ticket.from_doc(doc)
    moved = {"number": closed.number, "from": source.status.value, "to": Status.closed.value}
    await _record(core, closed, "ticket.status_changed", actor, moved, source.id)
    return closed


async def _absorb(core: Core, source: Ticket, target: Ticket, actor: Author) -> Ticket:
    """The target gains the duplicate's conversations (their channels too) and tags, each
    once; then both timelines' entries. Every step writes nothing the second time."""
    added = {
        "conversation_ids": {"$each": source.conversation_ids},
        "channel_ids": {"$each": source.channel_ids},
        "tags": {"$each": source.tags},
    }
    missing = any(
        set(getattr(source, name)) - set(getattr(target, name)) for name in added
    )  # a retry finds them there: no write, the same answer
    doc = (
        await tickets(core).find_one_and_update(
            {"_id": target.id, "workspace_id": target.workspace_id},
            {"$addToSet": added, "$set": {"updated_at": core.clock.now()}},
            return_document=ReturnDocument.AFTER,
        )
        if missing
        else None
    )
    into = Ticket.from_doc(doc) if doc is not None else target
    merged = {"number": source.number, "into_id": into.id, "into_number": into.number}
    await _record(core, source, "ticket.merged", actor, merged, source.id, into.id)
    received = {
        "number": into.number,
        "from_id": source.id,
        "from_number": source.number,
        "conversation_ids": source.conversation_ids,
        "tags": source.tags,
    }
    await _record(core, into, "ticket.merged_in", actor, received, source.id, into.id)
    return into


async def _record(
    core: Core, ticket: Ticket, type: str, actor: Author, data: dict[str, Any], *key: str
) -> None:
    """One event on `ticket`'s timeline, its id derived from the merge: recorded once."""
    event = build_event(
        core,
        ticket.workspace_id,
        type,
        actor=actor,
        event_id=derived_id(type, "merge", *key),
        conversation_id=ticket.conversation_ids[0] if ticket.conversation_ids else None,
        customer_id=ticket.customer_id,
        data={"ticket_id": ticket.id, **data},
    )
    await record(core, event)
