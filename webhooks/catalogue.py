"""From Kith's internal events to the public ones a subscriber reads.

The internal log speaks Kith's own language (`message.received` for what a customer wrote,
`message.created` for what Kith sends, `conversation.status_changed` …) and its `data` may
change with the code. Subscribers get a small, documented catalogue instead (docs/webhooks.md):
ids rather than stored documents, never a secret, and customer text only in
`message.created`, which is about a message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from kith.core.clock import aware
from kith.core.context import Core
from kith.core.models import Event

Public = tuple[str, dict[str, Any]]
"""A public event: its type and its `data`."""


def iso(moment: datetime) -> str:
    return aware(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _message(core: Core, event: Event) -> list[Public]:
    doc = await core.store.messages.find_one({"_id": event.message_id})
    if doc is None or doc.get("private") or doc.get("deleted"):
        return []
    author = doc.get("author") or {}
    data = {
        "message_id": doc["_id"],
        "conversation_id": doc["conversation_id"],
        "customer_id": doc["customer_id"],
        "channel_id": doc["channel_id"],
        "direction": "inbound" if doc["direction"] == "in" else "outbound",
        "author": {"kind": author.get("kind"), "id": author.get("id")},
        "text": doc.get("text", ""),
        "attachments": [
            {"kind": a.get("kind"), "name": a.get("name"), "mime": a.get("mime")}
            for a in doc.get("attachments") or []
        ],
        "created_at": iso(doc["created_at"]),
    }
    found = [("message.created", data)]
    if event.type == "message.received" and event.data.get("new_customer"):
        found.append(("customer.created", {"customer_id": doc["customer_id"], "source": "message"}))
    return found


async def _resolved(core: Core, event: Event) -> list[Public]:
    if event.data.get("to") != "resolved":
        return []
    by = {"kind": event.actor.kind.value, "id": event.actor.id}
    return [("conversation.resolved", {**_conversation(event), "resolved_by": by})]


async def _assigned(core: Core, event: Event) -> list[Public]:
    data = {**_conversation(event), "assignee_id": event.data.get("assignee_id")}
    return [("conversation.assigned", data)]


def _conversation(event: Event) -> dict[str, Any]:
    return {"conversation_id": event.conversation_id, "customer_id": event.customer_id}


async def _customer_created(core: Core, event: Event) -> list[Public]:
    source = "import" if event.data.get("via") == "import" else "api"
    return [("customer.created", {"customer_id": event.customer_id, "source": source})]


async def _merged(core: Core, event: Event) -> list[Public]:
    data = {"customer_id": event.customer_id, "merged_id": event.data.get("merged_id")}
    return [("customer.merged", data)]


async def _segment(core: Core, event: Event) -> list[Public]:
    data = {"segment_id": event.data.get("segment_id"), "customer_id": event.customer_id}
    return [(event.type, data)]


def _owned(kind: str) -> Callable[[Core, Event], Awaitable[list[Public]]]:
    """Tickets and orders: their id (`<kind>_id`, else `id`), who they concern and, when the
    change names it, the status it left."""

    async def public(core: Core, event: Event) -> list[Public]:
        data: dict[str, Any] = {
            f"{kind}_id": event.data.get(f"{kind}_id") or event.data.get("id"),
            "customer_id": event.customer_id,
            "conversation_id": event.conversation_id,
        }
        moved = (event.data.get("changes") or {}).get("status") or {}  # a ticket's change
        status = event.data.get("status", moved.get("to"))
        if isinstance(status, str):
            data["status"] = status
        return [(event.type, data)]

    return public


def _ticket(event: Event) -> dict[str, Any]:
    return {
        "ticket_id": event.data.get("ticket_id"),
        "number": event.data.get("number"),
        "customer_id": event.customer_id,
        "conversation_id": event.conversation_id,
    }


async def _solved(core: Core, event: Event) -> list[Public]:
    """The tickets feature records every move (`ticket.status_changed`); a subscriber asks
    for the one that matters outside, solved (again, after a reopening: a new event)."""
    if event.data.get("to") != "solved":
        return []
    by = {"kind": event.actor.kind.value, "id": event.actor.id}
    return [("ticket.solved", {**_ticket(event), "solved_by": by})]


async def _merged_ticket(core: Core, event: Event) -> list[Public]:
    """A duplicate merged into another ticket (`kith.tickets.merge`): said once, by the
    duplicate's event (the target's `ticket.merged_in` says the same from the other side)."""
    into = {
        "into_ticket_id": event.data.get("into_id"),
        "into_number": event.data.get("into_number"),
    }
    return [("ticket.merged", {**_ticket(event), **into})]


SLA_KEYS = ("metric", "due_at", "policy_id", "priority", "team_id", "assignee_id", "late_seconds")


async def _sla(core: Core, event: Event) -> list[Public]:
    """A clock that is about to run out (`ticket.sla_warning`) or ran out (`…_breached`)."""
    data = {**_ticket(event), **{k: event.data.get(k) for k in SLA_KEYS}}
    if isinstance(data["due_at"], datetime):
        data["due_at"] = iso(data["due_at"])
    return [(event.type, data)]


async def _csat(core: Core, event: Event) -> list[Public]:
    """A satisfaction answer: the score, then (after a low one) that a reason came. The
    reason is the customer's own words, which the catalogue keeps to `message.created`:
    it is on the ticket (`GET /api/v1/tickets/{id}`, `csat.reason`)."""
    data = {
        **_ticket(event),
        "resolution": event.data.get("resolution"),
        "score": event.data.get("score"),
        "has_reason": bool(event.data.get("reason")),
    }
    return [(event.type, data)]


def _community(*keys: str) -> Callable[[Core, Event], Awaitable[list[Public]]]:
    """Communities: the community, the customer the event is about, and the named ids (never
    a member's name or message)."""

    async def public(core: Core, event: Event) -> list[Public]:
        data: dict[str, Any] = {"community_id": event.data.get("community_id")}
        if event.data.get("channel_id"):
            data["channel_id"] = event.data["channel_id"]
        if "customer_id" in keys:
            data["customer_id"] = event.customer_id
        data.update({k: event.data.get(k) for k in keys if k != "customer_id"})
        return [(event.type, data)]

    return public


COMMUNITY_EVENTS: dict[str, tuple[str, ...]] = {
    "community.created": (),
    "community.renamed": (),
    "community.member_joined": ("customer_id", "member_id", "platform_user_id", "via"),
    "community.member_left": ("customer_id", "member_id", "platform_user_id", "removed"),
    "community.join_requested": ("customer_id", "request_id", "platform_user_id", "via"),
    "community.join_request_approved": ("customer_id", "request_id", "platform_user_id"),
    "community.join_request_declined": ("customer_id", "request_id", "platform_user_id"),
    "community.referral_credited": ("referral_id", "referrer_id", "referred_id", "count"),
    "community.referral_revoked": ("referral_id", "referrer_id", "referred_id", "count"),
}

MAPPERS: dict[str, Callable[[Core, Event], Awaitable[list[Public]]]] = {
    "message.received": _message,
    "message.created": _message,
    "conversation.status_changed": _resolved,
    "conversation.assigned": _assigned,
    "customer.created": _customer_created,
    "customer.merged": _merged,
    "segment.entered": _segment,
    "segment.left": _segment,
    "ticket.created": _owned("ticket"),
    "ticket.updated": _owned("ticket"),
    "ticket.status_changed": _solved,
    "ticket.merged": _merged_ticket,
    "ticket.sla_warning": _sla,
    "ticket.sla_breached": _sla,
    "ticket.csat_received": _csat,
    "order.created": _owned("order"),
    "order.updated": _owned("order"),
    **{kind: _community(*keys) for kind, keys in COMMUNITY_EVENTS.items()},
}
INTERNAL_TYPES = tuple(MAPPERS)


async def public_events(core: Core, event: Event) -> list[Public]:
    """The public events an internal one stands for (none for most)."""
    mapper = MAPPERS.get(event.type)
    return await mapper(core, event) if mapper else []


def payload(event: Event, public: Public) -> dict[str, Any]:
    """The body of a delivery, as Standard Webhooks suggests: type, timestamp, data."""
    kind, data = public
    return {"type": kind, "timestamp": iso(event.created_at), "data": data}
