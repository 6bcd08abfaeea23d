"""The tickets consumer: what customers' messages, agents' replies and the conversation's
signals do to tickets. One consumer for all of them, so one conversation's events are handled
in log order (a reply that opens a new ticket is seen by the keyword rule that follows it,
which then only notes its reason there)."""

from __future__ import annotations

from kith.bots.engine import MISSED_REASON
from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import answered_elsewhere
from kith.core.models import AuthorKind, Direction, Event, Message
from kith.tickets.actions import do_update_ticket
from kith.tickets.models import Priority, Status, TicketPatch
from kith.tickets.reopen import on_reply
from kith.tickets.rules import Hit, apply, matched_keyword, reason
from kith.tickets.settings import get_settings
from kith.tickets.store import tickets
from kith.tickets.waiting import WAIT_EXCEEDED, SweepTimers

TYPES = (
    "message.received",
    "message.created",
    "conversation.escalated",
    "conversation.handoff",
    WAIT_EXCEEDED,
)


def consumer() -> Consumer:
    timers = SweepTimers()

    async def handle(core: Core, event: Event) -> None:
        if event.conversation_id is None:
            return
        if event.type == "message.received":
            await timers.ensure(core, event.workspace_id)
            await _received(core, event)
        elif event.type == "message.created":
            await _answered(core, event)
        elif event.type == "conversation.escalated":
            await _escalated(core, event)
        elif event.type == "conversation.handoff":
            await _handoff(core, event)
        elif event.type == WAIT_EXCEEDED:
            await _waited(core, event)

    return Consumer("tickets", TYPES, handle)


async def _received(core: Core, event: Event) -> None:
    if event.actor.kind != AuthorKind.customer or event.message_id is None:
        return
    doc = await core.store.messages.find_one({"_id": event.message_id})
    if doc is None:
        return  # erased meanwhile
    if doc.get("group"):
        return  # a group's chatter: see `_in_group`
    message = Message.from_doc(doc)
    if message.direction != Direction.inbound:
        return
    if await answered_elsewhere(core, message):
        return  # "STOP", a survey's "2": answered by their feature, not a reply to a ticket
    settings = await get_settings(core, event.workspace_id)
    await on_reply(core, event, message, settings)
    if not settings.keywords_enabled:
        return
    keyword = matched_keyword(message.text, settings.keywords)
    if keyword is not None:
        text = await reason(core, settings, event, "keyword", keyword=keyword)
        await apply(core, Hit(event, text))


async def _answered(core: Core, event: Event) -> None:
    """An agent's reply (a note is `note.created`) in a new ticket's conversation opens the
    ticket, as a service desk's first answer does (Zendesk's New → Open). Handled twice, the
    ticket is no longer new and nothing changes."""
    if event.actor.kind != AuthorKind.agent:
        return
    new = tickets(core).find(
        {
            "workspace_id": event.workspace_id,
            "conversation_ids": event.conversation_id,
            "status": Status.new.value,
        },
        {"_id": 1},
    )
    for doc in await new.to_list():
        opened = TicketPatch(status=Status.open)
        await do_update_ticket(core, event.workspace_id, doc["_id"], opened, event.actor)


async def _escalated(core: Core, event: Event) -> None:
    if await _tipped_elsewhere(core, event):
        return
    settings = await get_settings(core, event.workspace_id)
    if not settings.negative_sentiment:
        return
    text = await reason(core, settings, event, "negative")
    high = Priority.high
    await apply(core, Hit(event, text, priority=high, raise_to=high))


async def _in_group(core: Core, conversation_id: str | None) -> bool:
    """Whether the conversation is a group's. No rule opens, notes or reopens a ticket there:
    its members' words are not one customer's problem (a ticket's customer would be whoever
    opened the group's conversation, and its survey would go to the whole group); agents
    open one by hand where it is."""
    doc = await core.store.conversations.find_one({"_id": conversation_id}, {"group": 1})
    return doc is not None and bool(doc.get("group"))


async def _tipped_elsewhere(core: Core, event: Event) -> bool:
    """Whether the message that tipped the signal is no rule's business: said in a group
    (`_in_group`), or one a feature answers itself (a low score's reason belongs to the
    survey: it is read on the solved ticket). One read of the message."""
    doc = None
    if event.message_id is not None:
        doc = await core.store.messages.find_one({"_id": event.message_id})
    if doc is None:
        return await _in_group(core, event.conversation_id)
    return bool(doc.get("group")) or await answered_elsewhere(core, Message.from_doc(doc))


async def _handoff(core: Core, event: Event) -> None:
    if event.data.get("reason") != MISSED_REASON or await _in_group(core, event.conversation_id):
        return
    settings = await get_settings(core, event.workspace_id)
    if settings.bot_failures:
        await apply(core, Hit(event, await reason(core, settings, event, "bot")))


async def _waited(core: Core, event: Event) -> None:
    """Only if the conversation still waits since the same moment (nobody answered in
    between the sweep and now)."""
    settings = await get_settings(core, event.workspace_id)
    if not settings.waiting_enabled:
        return
    doc = await core.store.conversations.find_one(
        {"_id": event.conversation_id}, {"waiting_since": 1, "group": 1}
    )
    if doc is not None and doc.get("group"):
        return  # see `_in_group`
    began = doc.get("waiting_since") if doc else None
    if began is None or began.isoformat() != event.data.get("waiting_since"):
        return
    text = await reason(core, settings, event, "waiting", minutes=event.data.get("minutes"))
    await apply(core, Hit(event, text))
