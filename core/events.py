"""The append-only event log: what happened, to what, by whom, when."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pymongo import InsertOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from kith.core.context import Core
from kith.core.ids import new_id
from kith.core.models import Author, AuthorKind, Event

log = logging.getLogger(__name__)
SYSTEM = Author(kind=AuthorKind.system)
DUPLICATE_KEY = 11000


def build_event(
    core: Core,
    workspace_id: str,
    type: str,
    *,
    actor: Author = SYSTEM,
    event_id: str | None = None,
    conversation_id: str | None = None,
    customer_id: str | None = None,
    message_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    return Event(
        id=event_id or new_id(),
        workspace_id=workspace_id,
        type=type,
        actor=actor,
        conversation_id=conversation_id,
        customer_id=customer_id,
        message_id=message_id,
        data=data or {},
        created_at=core.clock.now(),
    )


def _stored(core: Core, event: Event) -> dict[str, Any]:
    """The event as stored: with the consumers still to handle it (`kith.core.consumers`)."""
    doc = event.to_doc()
    pending = core.consumers.subscribed(event.type)
    if pending:
        doc["pending"] = pending
    return doc


async def record(core: Core, event: Event) -> bool:
    """Append `event`; an event with a fixed id is written once (False if it already was).

    Concurrent calls share one insert (group commit); each returns once its own event is
    stored."""
    doc = _stored(core, event)
    try:
        await core.store.grouped("events").write(InsertOne(doc))
    except DuplicateKeyError:
        return False
    _notify(core, event, doc.get("pending", ()))
    return True


async def record_all(core: Core, events: Sequence[Event]) -> None:
    """Append several events made with fresh ids in one round trip (one change that touches
    several things, such as labels and priority, is several events)."""
    if len(events) <= 1:
        for event in events:
            await record(core, event)
        return
    docs = [_stored(core, event) for event in events]
    await core.store.events.insert_many(docs)
    for event, doc in zip(events, docs, strict=True):
        _notify(core, event, doc.get("pending", ()))


async def record_many(core: Core, events: Sequence[Event]) -> None:
    """Append events with derived ids in one round trip; those already recorded (by a step
    that is being run again) stay as they were, the others are written."""
    if not events:
        return
    docs = [_stored(core, event) for event in events]
    written = set(range(len(docs)))
    try:
        await core.store.events.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        written -= {error["index"] for error in errors}
    for n in sorted(written):
        _notify(core, events[n], docs[n].get("pending", ()))


def _notify(core: Core, event: Event, consumers: Sequence[str]) -> None:
    """Tell this process's listeners, and wake the consumers the event is pending for."""
    if consumers:
        core.consumer_news.arrived(consumers)
    for listener in core.event_listeners:
        try:
            listener(event)
        except Exception:
            log.exception("event listener failed")
