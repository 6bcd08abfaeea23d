"""Tickets: a problem owned until it is solved, with a number people can say aloud.

A conversation is where a customer talks; a ticket is what an agent (or a team) owns about
it. A ticket links one customer and any number of conversations; its status moves only along
`MOVES`, so "solved" means an agent said so, and a customer's reply reopens it (see
`kith.tickets.reopen`). Pending and on hold are the statuses that wait on someone else:
the SLA clocks stop counting in them (`PAUSED`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from kith.core.models import Author, Record
from kith.core.search_terms import MAX_TERMS, text_terms
from kith.core.storable import DocumentKey, Int64
from kith.tickets.csat_models import Csat
from kith.tickets.sla_models import TicketSla


class Status(StrEnum):
    new = "new"
    open = "open"
    pending = "pending"  # waiting on the customer
    on_hold = "on_hold"  # waiting on a third party
    solved = "solved"
    closed = "closed"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


PRIORITIES = tuple(Priority)  # lowest first: "raise priority" moves one step right
ACTIVE = frozenset({Status.new, Status.open, Status.pending, Status.on_hold})
PAUSED = frozenset({Status.pending, Status.on_hold})
DONE = frozenset({Status.solved, Status.closed})  # a person moving it here is credited
MOVES: dict[Status, frozenset[Status]] = {
    Status.new: frozenset({Status.open, Status.pending, Status.on_hold, Status.solved}),
    Status.open: frozenset({Status.pending, Status.on_hold, Status.solved}),
    Status.pending: frozenset({Status.open, Status.on_hold, Status.solved}),
    Status.on_hold: frozenset({Status.open, Status.pending, Status.solved}),
    # A solved ticket reopens (a customer's reply, an agent), or is closed for good.
    Status.solved: frozenset({Status.open, Status.closed}),
    Status.closed: frozenset(),
}


class Source(StrEnum):
    """Who opened the ticket: an agent, a bot step, a rule, the API, or a customer's reply
    to a ticket closed too long ago to reopen."""

    agent = "agent"
    bot = "bot"
    rule = "rule"
    api = "api"
    reply = "reply"


Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=20_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
FieldValue = str | bool | Int64 | float | None
Fields = dict[DocumentKey, FieldValue]


class Ticket(Record):
    number: int
    subject: str
    description: str = ""
    customer_id: str
    conversation_ids: list[str] = Field(default_factory=list)
    # Where the customer talks about it: its conversations' channels (the customer's, for a
    # ticket of no conversation). An agent sees a ticket of no team through them.
    channel_ids: list[str] = Field(default_factory=list)
    priority: Priority = Priority.normal
    status: Status = Status.new
    assignee_id: str | None = None
    team_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)
    source: Source = Source.api
    created_by: Author
    created_at: datetime
    updated_at: datetime
    # When the status last moved: a reply written before it (handled after, the consumers
    # trail the log) belongs to what the agent already decided on.
    status_at: datetime | None = None
    solved_at: datetime | None = None
    closed_at: datetime | None = None
    # Times solved: a reopened ticket's next solve is a new resolution (one CSAT each).
    resolutions: int = 0
    previous_ticket_id: str | None = None  # the closed ticket a reply opened this one after
    # The ticket this duplicate was merged into (`kith.tickets.merge`), and that one's number.
    merged_into: str | None = None
    merged_into_number: int | None = None
    # The customer's message that opened it (a rule's, a reply's): its timeline's first entry.
    message_id: str | None = None
    csat: Csat | None = None  # the latest resolution's survey (kith.tickets.csat)
    # The SLA clocks (`kith.tickets.sla`) and their next warning or breach, which the SLA
    # worker sweeps by an indexed range.
    sla: TicketSla | None = None
    sla_next_at: datetime | None = None

    def to_doc(self) -> dict[str, Any]:
        """Stored with its search terms (`ticket_terms`), which the API never shows."""
        return {**super().to_doc(), "terms": ticket_terms(self.subject, self.description)}


def ticket_terms(subject: str, description: str) -> list[str]:
    """What a ticket is found by besides its number and customer: the words (and CJK
    bigrams) of its subject and description, as conversations are (`kith.core.search_terms`)."""
    return list(dict.fromkeys([*text_terms(subject), *text_terms(description)]))[:MAX_TERMS]


class TicketIn(BaseModel):
    """A new ticket: from a conversation (its customer follows) or for a customer."""

    model_config = ConfigDict(extra="forbid")

    subject: Subject
    description: Description | None = None
    conversation_id: str | None = Field(default=None, max_length=64)
    customer_id: str | None = Field(default=None, max_length=64)
    priority: Priority = Priority.normal
    assignee_id: str | None = Field(default=None, max_length=64)
    team_id: str | None = Field(default=None, max_length=64)
    tags: list[Tag] = Field(default=[], max_length=50)
    fields: Fields = Field(default={}, max_length=50)


class TicketPatch(BaseModel):
    """A change: only the fields sent change (`assignee_id: null` unassigns, `description:
    null` empties it); the other fields refuse a null, which would name no value to keep."""

    model_config = ConfigDict(extra="forbid")

    subject: Subject | None = None
    description: Description | None = None
    status: Status | None = None
    priority: Priority | None = None
    assignee_id: str | None = Field(default=None, max_length=64)
    team_id: str | None = Field(default=None, max_length=64)
    tags: list[Tag] | None = Field(default=None, max_length=50)
    fields: Fields | None = Field(default=None, max_length=50)

    @field_validator("subject", "status", "priority", "tags", "fields")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null: leave the field out to keep it")
        return value

    @field_validator("description")
    @classmethod
    def _empty(cls, value: str | None) -> str:
        return value or ""


class TicketCustomer(BaseModel):
    """A listed ticket's customer as the team calls them (`Customer.shown_name`). `name` is
    None when Kith knows no name, email or phone, and for an agent whose teams the customer
    does not talk to (the contacts refuse them that customer): pages then say "Customer 7F3A",
    as the ticket's own page does."""

    id: str
    name: str | None = None


class ListedTicket(Ticket):
    """A ticket in the list, with its customer's name read for the whole page at once;
    `customer` is None when the customer is gone (erased)."""

    customer: TicketCustomer | None = None


BULK_MAX = 100  # tickets one bulk change names at most (a page of the list)
TicketId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class BulkIn(BaseModel):
    """One change for several tickets (the list's ticked rows): `ids` are plain strings,
    compared as values, never read as operators."""

    model_config = ConfigDict(extra="forbid")

    ids: list[TicketId] = Field(min_length=1, max_length=BULK_MAX)
    patch: TicketPatch


class BulkRefusal(BaseModel):
    """Why one ticket of a bulk change was not changed: what its own PATCH would have answered
    (its HTTP status, code, field, `reason` and `limits`, for a page to word it)."""

    id: str
    number: int | None = None
    status: int
    code: str
    message: str
    field: str | None = None
    reason: str | None = None
    limits: dict[str, Any] = Field(default_factory=dict)


class BulkOut(BaseModel):
    """Each named ticket once, in the order named: changed, already as asked, or refused."""

    changed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    refused: list[BulkRefusal] = Field(default_factory=list)
