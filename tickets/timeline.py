"""A ticket's timeline: its events, its notes, and its linked conversations' messages since it
was opened, in one list, oldest first, in cursor pages.

Three indexed reads per page (events by `data.ticket_id`, notes by ticket, messages by
conversation), each continuing after the cursor's (time, id) and asking for one page; the
merge keeps the first page's worth. A note's own `ticket.note_added` event is left out (the
note is the item), and so is `ticket.status_changed`: the `ticket.updated` recorded with it
names the same move (`changes.status`, from and to), and a move is one entry. The customer's
message that opened the ticket (`Ticket.message_id`: a rule's, a reply's) is its first entry,
though written a moment before it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.models import Author
from kith.core.pagination import decode_cursor, encode_cursor
from kith.core.permissions import Scope
from kith.tickets.models import Ticket
from kith.tickets.notes import notes

HIDDEN_EVENTS = ("ticket.note_added", "ticket.status_changed")


class Item(BaseModel):
    kind: Literal["event", "note", "message"]
    id: str
    at: datetime
    author: Author
    type: str | None = None
    text: str | None = None
    data: dict[str, Any] | None = None


def _after(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    at, item_id = decode_cursor(cursor)
    if not isinstance(at, datetime):
        raise InvalidInput("malformed cursor", field="cursor")
    return {"$or": [{"created_at": {"$gt": at}}, {"created_at": at, "_id": {"$gt": item_id}}]}


async def _read(collection: Any, query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    cursor = collection.find(query).sort([("created_at", 1), ("_id", 1)]).limit(limit + 1)
    return list(await cursor.to_list(limit + 1))


def _event(doc: dict[str, Any]) -> Item:
    data = {k: v for k, v in (doc.get("data") or {}).items() if k != "ticket_id"}
    return Item(
        kind="event",
        id=doc["_id"],
        at=doc["created_at"],
        author=Author.model_validate(doc.get("actor") or {"kind": "system"}),
        type=doc["type"],
        data=data,
    )


def _note(doc: dict[str, Any]) -> Item:
    return Item(
        kind="note",
        id=doc["_id"],
        at=doc["created_at"],
        author=Author.model_validate(doc["author"]),
        text=doc.get("text", ""),
    )


def _message(doc: dict[str, Any]) -> Item:
    """A message of a linked conversation; `private` marks an internal note (never seen by
    the customer), `wording` lets the page say a note of Kith's own in its language (as the
    inbox does), and `customer_id` names an unnamed customer ("Customer 7F3A")."""
    data = {
        "conversation_id": doc["conversation_id"],
        "customer_id": doc.get("customer_id"),
        "direction": doc.get("direction"),
        "private": bool(doc.get("private")),
        "wording": doc.get("wording"),
    }
    return Item(
        kind="message",
        id=doc["_id"],
        at=doc["created_at"],
        author=Author.model_validate(doc["author"]),
        text=doc.get("text", ""),
        data=data,
    )


async def timeline(
    core: Core, ticket: Ticket, scope: Scope | None, *, cursor: str | None, limit: int
) -> tuple[list[Item], str | None]:
    """The ticket's events, notes and the messages of its conversations since it opened,
    oldest first; of the conversations, only those `scope` may read (None: all)."""
    after = _after(cursor)

    def query(base: dict[str, Any]) -> dict[str, Any]:
        return {"$and": [base, after]} if after else base

    events = await _read(
        core.store.events,
        query({"data.ticket_id": ticket.id, "type": {"$nin": list(HIDDEN_EVENTS)}}),
        limit,
    )
    noted = await _read(notes(core), query({"ticket_id": ticket.id}), limit)
    said: list[dict[str, Any]] = []
    readable = await _readable(core, ticket.conversation_ids, scope)
    if readable:
        since: dict[str, Any] = {"created_at": {"$gte": ticket.created_at}}
        if ticket.message_id is not None:
            since = {"$or": [since, {"_id": ticket.message_id}]}
        linked = {"conversation_id": {"$in": readable}, "deleted": {"$ne": True}}
        said = await _read(core.store.messages, query({"$and": [linked, since]}), limit)
    items = [*map(_event, events), *map(_note, noted), *map(_message, said)]
    items.sort(key=lambda item: (item.at, item.id))
    if len(items) <= limit:
        return items, None
    kept = items[:limit]
    return kept, encode_cursor(kept[-1].at, kept[-1].id)


async def _readable(core: Core, conversation_ids: list[str], scope: Scope | None) -> list[str]:
    """Which of the ticket's conversations `scope` may read: a ticket an agent sees may link
    another team's conversation too."""
    if scope is None or scope.channel_ids is None or not conversation_ids:
        return conversation_ids
    query = {"$and": [scope.conversation_filter(), {"_id": {"$in": conversation_ids}}]}
    return [doc["_id"] async for doc in core.store.conversations.find(query, {"_id": 1})]
