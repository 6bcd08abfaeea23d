"""Webhook endpoints, their deliveries and the public event types they subscribe to.

An endpoint is a URL an admin subscribes to public event types (`EVENT_TYPES`, or `*`). Each
matching event becomes one `Delivery` per endpoint, whose id (the `webhook-id` header) is
derived from (event, endpoint) so that running the consumer again adds nothing. A delivery
keeps its body as sent (the same bytes on every attempt) and what its attempts answered: the
last one in its fields, the last `KEEP_ATTEMPTS` each with its headers and answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from kith.core.models import Record, Wording

ALL = "*"
# The public catalogue: what a subscriber may ask for, each with the shape of its `data`
# (docs/webhooks.md). Tickets and orders are recorded by their own features under these names.
EVENT_TYPES: dict[str, str] = {
    "message.created": "A message in a conversation, from the customer or to them.",
    "conversation.resolved": "A conversation was marked resolved.",
    "conversation.assigned": "A conversation was assigned to an agent (or unassigned).",
    "customer.created": "A new customer: first message on a channel, an import or the API.",
    "customer.merged": "Two customer records were merged into one.",
    "segment.entered": "A customer entered a segment.",
    "segment.left": "A customer left a segment.",
    "ticket.created": "A ticket was opened.",
    "ticket.updated": "A ticket changed (status, priority, assignee …).",
    "ticket.solved": "A ticket was solved (again, after a reopening: a new event).",
    "ticket.merged": "A duplicate ticket was merged into another (and closed).",
    "ticket.sla_warning": "A ticket's SLA clock is about to run out.",
    "ticket.sla_breached": "A ticket's SLA clock ran out.",
    "ticket.csat_received": "A customer rated a solved ticket, or said why after a low score.",
    "order.created": "An order was created.",
    "order.updated": "An order changed (status, shipping …).",
    "community.created": "The bot was first seen in a group or channel: a new community.",
    "community.renamed": "A community got its title, or a new one.",
    "community.member_joined": "A member joined a community (through an invite link: `via`).",
    "community.member_left": "A member left a community, or was removed.",
    "community.join_requested": "Someone asked to join through a link that needs approval.",
    "community.join_request_approved": "A join request was approved.",
    "community.join_request_declined": "A join request was declined.",
    "community.referral_credited": "A join through a customer's invite credited them.",
    "community.referral_revoked": "A quick leave revoked a referral credit.",
}
MAX_EVENTS = 32
# Why a delivery was not attempted: its endpoint was disabled when it fell due. Re-enabling
# the endpoint sends again those of the last `REPLAY_ON_ENABLE` (older ones: one by one).
ENDPOINT_DISABLED = "endpoint disabled"
# What the log says of an attempt without an answer: one wording for every way of not
# connecting, so that the log tells nothing about addresses the egress guard refused.
UNREACHABLE = "could not connect or read the answer"
TOO_LARGE = "answer too large"
BY_ADMIN = "disabled by an admin"
TEST_EVENT = "webhook.test"  # what "send a test event" delivers: no internal event behind it
REPLAY_ON_ENABLE = timedelta(days=3)
# How long the log keeps a delivery after it was made or last tried (a TTL index on
# `purge_at`); far longer than the retries (about a day) and the replay window above.
KEEP_DELIVERIES = timedelta(days=30)


def _known_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e != ALL and e not in EVENT_TYPES]
    if unknown:
        raise PydanticCustomError(
            "unknown_event_type", "unknown event types: {types}", {"types": ", ".join(unknown[:5])}
        )
    return list(dict.fromkeys(events))


EventList = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]],
    Field(min_length=1, max_length=MAX_EVENTS),
    AfterValidator(_known_events),
]
Url = Annotated[str, Field(min_length=8, max_length=2048)]
Description = Annotated[str, Field(max_length=500)]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: EventList
    description: Description = ""


class EndpointPatch(BaseModel):
    """Fields left out stay as they are; `enabled: true` re-enables a disabled endpoint."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: EventList | None = None
    description: Description | None = None
    enabled: StrictBool | None = None  # "yes" or 1 is refused, not read as true


class Endpoint(Record):
    url: str
    events: list[str]
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_since: datetime | None = None  # failing since, when failures disabled it
    disabled_error: str | None = None  # and the last failure's `last_error`
    disabled_error_wording: Wording | None = None  # and its `error_wording`
    failing_since: datetime | None = None
    created_at: datetime
    updated_at: datetime

    def wants(self, event_type: str) -> bool:
        return ALL in self.events or event_type in self.events


class DeliveryStatus(StrEnum):
    pending = "pending"  # due at `next_attempt_at` (a first try or a retry)
    succeeded = "succeeded"
    failed = "failed"  # retries exhausted, the endpoint disabled, or a manual try failed


# What each attempt keeps for the page's delivery details: the last `KEEP_ATTEMPTS` attempts,
# each with the headers sent (the signature, never the secret) and the answer's first
# `KEEP_ANSWER_CHARS` characters, so one chatty receiver cannot swell the log.
KEEP_ATTEMPTS = 20
KEEP_ANSWER_CHARS = 2000


class Attempt(BaseModel):
    """One POST of a delivery: when, the headers sent, and what came back (if anything)."""

    at: datetime
    request_headers: dict[str, str]
    response_status: int | None = None
    latency_ms: int | None = None
    response_body: str | None = None  # the first `KEEP_ANSWER_CHARS`, as text
    response_truncated: bool = False
    error: str | None = None  # in English, as `Delivery.last_error`
    error_wording: Wording | None = None


class Delivery(Record):
    endpoint_id: str
    event_id: str
    type: str
    body: str  # the JSON sent, byte for byte the same on every attempt
    customer_id: str | None = None  # erased with the customer: the body may quote them
    status: DeliveryStatus = DeliveryStatus.pending
    attempts: int = 0
    manual: bool = False  # a redelivery: one attempt, no retries
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    response_status: int | None = None
    latency_ms: int | None = None
    last_error: str | None = None  # in English, for API clients and logs
    error_wording: Wording | None = None  # the same as a key and values, for the page
    # The last `KEEP_ATTEMPTS`, oldest first: each with its headers and the answer's start.
    attempt_log: list[Attempt] = Field(default_factory=list)
    lease_owner: str | None = None
    lease_until: datetime | None = None
    purge_at: datetime | None = None  # wall-clock time, the TTL monitor's (`store.purge_at`)
