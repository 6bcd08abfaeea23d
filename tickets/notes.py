"""Internal notes on a ticket: what agents (and rules) tell each other, never the customer.

A note is its own document (the timeline pages through them with the ticket's events) and a
`ticket.note_added` event naming it. A note whose id derives from its cause (a rule's event)
is written once however often that cause is handled again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.ids import derived_id, new_id
from kith.core.models import Author, Record
from kith.tickets.merge import ensure_not_merged
from kith.tickets.models import Ticket

NOTES = "ticket_notes"

NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: NoteText


class Note(Record):
    ticket_id: str
    customer_id: str  # erased and merged with the customer, like the ticket
    author: Author
    text: str
    created_at: datetime


def notes(core: Core) -> Any:
    return core.store.collection(NOTES)


async def do_add_note(
    core: Core, ticket: Ticket, text: str, author: Author, note_id: str | None = None
) -> Note:
    """Add a note to `ticket` and record `ticket.note_added`; with a derived `note_id`, a
    second call returns the first note and records nothing new. A merged duplicate takes no
    note (409 `ticket_merged`): as Zendesk's closed tickets, it is read-only."""
    ensure_not_merged(ticket)
    note = Note(
        id=note_id or new_id(),
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        author=author,
        text=text,
        created_at=core.clock.now(),
    )
    try:
        await notes(core).insert_one(note.to_doc())
    except DuplicateKeyError:
        stored = await notes(core).find_one({"_id": note.id})
        if stored is None:
            raise
        note = Note.from_doc(stored)
    event = build_event(
        core,
        ticket.workspace_id,
        "ticket.note_added",
        actor=note.author,
        event_id=derived_id("ticket.note_added", note.id),
        conversation_id=ticket.conversation_ids[0] if ticket.conversation_ids else None,
        customer_id=ticket.customer_id,
        data={"ticket_id": ticket.id, "number": ticket.number, "note_id": note.id},
    )
    await record(core, event.model_copy(update={"created_at": note.created_at}))
    return note
