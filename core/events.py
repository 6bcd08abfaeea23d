"""The append-only event log: what happened, to what, by whom, when."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.ids import new_id
from kith.core.models import Author, AuthorKind, Event

log = logging.getLogger(__name__)
SYSTEM = Author(kind=AuthorKind.system)


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


async def record(core: Core, event: Event) -> bool:
    """Append `event`; an event with a fixed id is written once (False if it already was)."""
    try:
        await core.store.events.insert_one(event.to_doc())
    except DuplicateKeyError:
        return False
    _notify(core, event)
    return True


async def record_all(core: Core, events: Sequence[Event]) -> None:
    """Append several events made with fresh ids in one round trip (one change that touches
    several things, such as labels and priority, is several events)."""
    if len(events) <= 1:
        for event in events:
            await record(core, event)
        return
    await core.store.events.insert_many([event.to_doc() for event in events])
    for event in events:
        _notify(core, event)


def _notify(core: Core, event: Event) -> None:
    for listener in core.event_listeners:
        try:
            listener(event)
        except Exception:
            log.exception("event listener failed")
