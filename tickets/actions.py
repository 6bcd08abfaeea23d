"""Writes on tickets: open one, change it, link a conversation; each records its events.

A change is one conditional update on the status the ticket was read with, so two agents
moving one ticket at once cannot both win (the loser gets 409 and reads it again); a refused
move answers 409 and lists the allowed ones. Every change is a `ticket.updated` event naming
what changed (`{field: {"from", "to"}}`), and a move also a `ticket.status_changed`, which the
SLA clocks and the satisfaction survey follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.customers import get_customer
from kith.core.errors import Conflict, InvalidInput, KithError, NotFound, joined, raise_all
from kith.core.events import SYSTEM, build_event, record, record_all
from kith.core.ids import derived_id, new_id
from kith.core.models import Author, AuthorKind, Conversation, Direction
from kith.core.permissions import Scope, assignee_refusal
from kith.core.teams import get_team
from kith.core.transitions import refused
from kith.tickets.merge import ensure_not_merged
from kith.tickets.models import (
    DONE,
    MOVES,
    BulkOut,
    BulkRefusal,
    Source,
    Status,
    Ticket,
    TicketIn,
    TicketPatch,
    ticket_terms,
)
from kith.tickets.sla_tickets import changed_clocks, guard, open_clocks
from kith.tickets.store import get_ticket, next_number, tickets, visible

QUOTED_MESSAGES = 5
QUOTE_CHARS = 2000
ATTEMPTS = 5  # conditional writes tried again when only the SLA clocks moved meanwhile


async def _quote(core: Core, conversation: Conversation) -> str:
    """The customer's last few messages, quoted: what the ticket is about, in their words."""
    cursor = (
        core.store.messages.find(
            {"conversation_id": conversation.id, "direction": Direction.inbound.value},
            {"text": 1},
        )
        .sort([("created_at", -1), ("_id", -1)])  # fresh ids break a tie in order of arrival
        .limit(QUOTED_MESSAGES)
    )
    texts = [doc.get("text", "") async for doc in cursor]
    quoted = "\n".join(f"> {line}" for text in reversed(texts) for line in text.splitlines())
    return quoted[:QUOTE_CHARS]


async def _people(
    core: Core, workspace_id: str, assignee_id: str | None, team_id: str | None
) -> list[KithError]:
    """The refusals of an assignee or team that is not the workspace's (422 naming the field),
    both when both are wrong."""
    errors: list[KithError] = []
    if assignee_id is not None:
        refusal = await assignee_refusal(core, workspace_id, assignee_id)
        if refusal is not None:
            errors.append(refusal)  # not the workspace's, or cannot answer (a marketer)
    if team_id is not None:
        try:
            await get_team(core, workspace_id, team_id)
        except NotFound:
            errors.append(InvalidInput("no such team", field="team_id"))
    return errors


async def do_create_ticket(
    core: Core,
    workspace_id: str,
    body: TicketIn,
    actor: Author = SYSTEM,
    source: Source = Source.api,
    previous_ticket_id: str | None = None,
    ticket_id: str | None = None,
    message_id: str | None = None,
) -> Ticket:
    """A ticket for a conversation (linked, its customer's words quoted when no description
    is given) or for a customer; everything named is checked before the number is taken.
    `ticket_id` is given by callers that derive it from what caused the ticket (a retried
    consumer finds the ticket it already opened: `kith.tickets.opening`); `message_id` is the
    customer's message that opened it, if one did (the first entry of its timeline)."""
    conversation = None
    errors: list[KithError] = []
    customer_id = body.customer_id
    if body.conversation_id is not None:
        conversation = await get_conversation(core, workspace_id, body.conversation_id)
        if body.customer_id is not None and body.customer_id != conversation.customer_id:
            errors.append(
                InvalidInput("the conversation is another customer's", field="customer_id")
            )
        customer_id = conversation.customer_id
    elif body.customer_id is None:
        errors.append(
            InvalidInput("name a conversation_id or a customer_id", field="conversation_id")
        )
    if customer_id is None or errors:
        raise joined([*errors, *await _people(core, workspace_id, body.assignee_id, body.team_id)])
    customer = await get_customer(core, workspace_id, customer_id)  # a 404 first, as it was
    raise_all(await _people(core, workspace_id, body.assignee_id, body.team_id))
    description = body.description
    if description is None:
        description = await _quote(core, conversation) if conversation else ""
    team_id = body.team_id
    if team_id is None and conversation is not None:
        team_id = conversation.team_id
    now = core.clock.now()
    ticket = Ticket(
        id=ticket_id or new_id(),
        workspace_id=workspace_id,
        number=await next_number(core, workspace_id),
        subject=body.subject,
        description=description,
        customer_id=customer_id,
        conversation_ids=[conversation.id] if conversation else [],
        channel_ids=(
            [conversation.channel_id]
            if conversation
            else sorted({i.channel_id for i in customer.identities})
        ),
        priority=body.priority,
        assignee_id=body.assignee_id,
        team_id=team_id,
        tags=list(dict.fromkeys(body.tags)),
        fields=dict(body.fields),
        source=source,
        created_by=actor,
        created_at=now,
        updated_at=now,
        status_at=now,
        previous_ticket_id=previous_ticket_id,
        message_id=message_id,
    )
    await open_clocks(core, ticket)
    await tickets(core).insert_one(ticket.to_doc())
    await record_created(core, ticket)
    return ticket


async def record_created(core: Core, ticket: Ticket) -> bool:
    """The ticket's `ticket.created` event, whose id derives from the ticket's: recording it
    again (a retry that found the ticket stored) writes nothing twice."""
    event = _event(core, ticket, "ticket.created", ticket.created_by, _summary(ticket))
    fixed = {"id": derived_id("ticket.created", ticket.id), "created_at": ticket.created_at}
    return await record(core, event.model_copy(update=fixed))


def _summary(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "source": ticket.source.value,
        "previous_ticket_id": ticket.previous_ticket_id,
    }


def _event(core: Core, ticket: Ticket, type: str, actor: Author, data: dict[str, Any]) -> Any:
    return build_event(
        core,
        ticket.workspace_id,
        type,
        actor=actor,
        conversation_id=ticket.conversation_ids[0] if ticket.conversation_ids else None,
        customer_id=ticket.customer_id,
        data={"ticket_id": ticket.id, **data},
    )


def _changes(ticket: Ticket, patch: TicketPatch) -> dict[str, Any]:
    """The fields `patch` really changes, with their new stored values."""
    sent = patch.model_dump(exclude_unset=True, mode="json")
    current = ticket.model_dump(mode="json")
    return {name: value for name, value in sent.items() if current.get(name) != value}


def _status_fields(ticket: Ticket, to: Status, now: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {"status_at": now}
    if to == Status.solved:
        fields |= {"solved_at": now, "resolutions": ticket.resolutions + 1}
    elif to == Status.closed:
        fields["closed_at"] = now
    elif ticket.status == Status.solved:
        fields["solved_at"] = None  # reopened: solved again later is a new resolution
    return fields


async def do_update_ticket(
    core: Core,
    workspace_id: str,
    ticket_id: str,
    patch: TicketPatch,
    actor: Author = SYSTEM,
    ticket: Ticket | None = None,
) -> Ticket:
    """Apply `patch` to the ticket (read again unless given); nothing to change is no write.
    The SLA clocks change in the same conditional update; a write of the clocks alone meanwhile
    (a warning marked, a reply met) is read again and applied under, never written over.
    A merged duplicate is not changed at all (409 `ticket_merged`, `kith.tickets.merge`)."""
    before = ticket or await get_ticket(core, workspace_id, ticket_id)
    for _ in range(ATTEMPTS):
        ensure_not_merged(before)
        changes = _changes(before, patch) | _credit(before, patch, actor)
        if not changes:
            return before
        await _refuse(core, workspace_id, before, changes)
        now = core.clock.now()
        update = dict(changes)
        if "status" in changes:
            update |= _status_fields(before, Status(changes["status"]), now)
        if "tags" in update:
            update["tags"] = list(dict.fromkeys(update["tags"]))
        if "subject" in update or "description" in update:
            subject = update.get("subject", before.subject)
            update["terms"] = ticket_terms(subject, update.get("description", before.description))
        update["updated_at"] = now
        update |= await changed_clocks(core, before, changes, now)
        current = {
            "_id": before.id,
            "workspace_id": workspace_id,
            "status": before.status.value,
            "merged_into": None,
        }
        if "sla" in update:
            current |= guard(before)
        doc = await tickets(core).find_one_and_update(
            current, {"$set": update}, return_document=ReturnDocument.AFTER
        )
        if doc is not None:
            break
        again = await get_ticket(core, workspace_id, before.id)
        ensure_not_merged(again)  # merged meanwhile: refused as merged, not as "changed"
        if again.status != before.status:
            raise Conflict("the ticket changed meanwhile: load it again", field="status")
        before = again
    else:
        raise Conflict("the ticket changed meanwhile: load it again", field="status")
    after = Ticket.from_doc(doc)
    await record_all(core, _change_events(core, before, after, changes, actor))
    return after


def _credit(ticket: Ticket, patch: TicketPatch, actor: Author) -> dict[str, Any]:
    """A person who solves or closes an unassigned ticket becomes its assignee in the same
    write (as Zendesk does), so the per-agent CSAT and SLA reports credit who did the work;
    the change is in the ticket's `ticket.updated` event, hence its timeline. An API token,
    a rule or the system leave it unassigned, and so does a patch that names the assignee
    (`assignee_id: null` included)."""
    solving = patch.status in DONE and patch.status != ticket.status
    person = actor.kind == AuthorKind.agent and actor.id is not None
    if (
        solving
        and person
        and ticket.assignee_id is None
        and "assignee_id" not in patch.model_fields_set
    ):
        return {"assignee_id": actor.id}
    return {}


async def _refuse(core: Core, workspace_id: str, ticket: Ticket, changes: dict[str, Any]) -> None:
    """Every change that may not be made, in one answer: an assignee or team that is not the
    workspace's (422), and a move its status does not allow (409 when it is the only fault)."""
    errors: list[KithError] = []
    if "assignee_id" in changes or "team_id" in changes:
        assignee_id, team_id = changes.get("assignee_id"), changes.get("team_id")
        errors += await _people(core, workspace_id, assignee_id, team_id)
    if "status" in changes and (to := Status(changes["status"])) not in MOVES[ticket.status]:
        errors.append(refused("ticket", ticket.status, to, MOVES))
    raise_all(errors)


def _change_events(
    core: Core, before: Ticket, after: Ticket, changes: dict[str, Any], actor: Author
) -> list[Any]:
    old = before.model_dump(mode="json")
    described = {name: {"from": old.get(name), "to": value} for name, value in changes.items()}
    updated = {"number": after.number, "changes": described}
    events = [_event(core, after, "ticket.updated", actor, updated)]
    if "status" in changes:
        moved = {"number": after.number, "from": before.status.value, "to": after.status.value}
        events.append(_event(core, after, "ticket.status_changed", actor, moved))
    return events


async def do_bulk_update(
    core: Core,
    workspace_id: str,
    ids: list[str],
    patch: TicketPatch,
    actor: Author,
    scope: Scope | None,
) -> BulkOut:
    """One change for several tickets (the list's ticked rows), each through
    `do_update_ticket`, so its events, SLA clocks, credit and conditional write are a single
    change's. What is wrong with the change itself (nothing named, an assignee or team not
    the workspace's) refuses the whole request (422 naming `patch.…`), before any write; a
    ticket the change cannot apply to (a move its status does not allow, merged, changed
    meanwhile) is refused on its own and the others are changed. A ticket `scope` may not
    see is refused as one that does not exist (404), as its PATCH would be."""
    if not patch.model_fields_set:
        raise InvalidInput("name a change", field="patch", reason="bulk_empty")
    people = await _people(core, workspace_id, patch.assignee_id, patch.team_id)
    for error in people:
        error.field = f"patch.{error.field}"
    raise_all(people)
    wanted = list(dict.fromkeys(ids))
    base = visible(scope) if scope is not None else {"workspace_id": workspace_id}
    query = {"$and": [base, {"_id": {"$in": wanted}}]}
    found = {d["_id"]: Ticket.from_doc(d) async for d in tickets(core).find(query)}
    out = BulkOut()
    for ticket_id in wanted:
        ticket = found.get(ticket_id)
        if ticket is None:
            gone = NotFound("no such ticket", field="ticket_id")  # as `get_ticket` says it
            out.refused.append(_bulk_refusal(ticket_id, None, gone))
            continue
        same = not (_changes(ticket, patch) | _credit(ticket, patch, actor))
        try:
            await do_update_ticket(core, workspace_id, ticket_id, patch, actor, ticket)
        except KithError as error:
            out.refused.append(_bulk_refusal(ticket_id, ticket.number, error))
            continue
        (out.unchanged if same else out.changed).append(ticket_id)
    return out


def _bulk_refusal(ticket_id: str, number: int | None, error: KithError) -> BulkRefusal:
    return BulkRefusal(
        id=ticket_id,
        number=number,
        status=error.status,
        code=error.code,
        message=error.message,
        field=error.field,
        reason=error.reason,
        limits=error.limits,
    )


async def do_move_ticket(
    core: Core, workspace_id: str, ticket_id: str, to: Status, actor: Author = SYSTEM
) -> Ticket:
    return await do_update_ticket(core, workspace_id, ticket_id, TicketPatch(status=to), actor)


async def do_link_conversation(
    core: Core, workspace_id: str, ticket_id: str, conversation_id: str, actor: Author = SYSTEM
) -> Ticket:
    """Link another conversation of the ticket's customer (linking twice changes nothing);
    a merged duplicate links nothing (409 `ticket_merged`: link it to the target)."""
    ticket = await get_ticket(core, workspace_id, ticket_id)
    ensure_not_merged(ticket)
    conversation = await get_conversation(core, workspace_id, conversation_id)
    if conversation.customer_id != ticket.customer_id:
        raise InvalidInput("the conversation is another customer's", field="conversation_id")
    if conversation_id in ticket.conversation_ids:
        return ticket
    doc = await tickets(core).find_one_and_update(
        {"_id": ticket.id, "workspace_id": workspace_id, "merged_into": None},
        {
            "$addToSet": {
                "conversation_ids": conversation_id,
                "channel_ids": conversation.channel_id,
            },
            "$set": {"updated_at": core.clock.now()},
        },
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:  # merged meanwhile
        ensure_not_merged(await get_ticket(core, workspace_id, ticket_id))
        raise Conflict("the ticket changed meanwhile: load it again", field="ticket_id")
    linked = Ticket.from_doc(doc)
    data = {"number": linked.number, "conversation_id": conversation_id}
    await record(core, _event(core, linked, "ticket.linked", actor, data))
    return linked
