"""The inbound pipeline: one entry point, `ingest()`, used by every connector.

validate → resolve the identity → deduplicate on (channel, channel message id) while
storing → find or open the thread's conversation → record the event, and return: the
webhook answers then. Bots, sentiment and every later feature react to the event log through
durable consumers (`kith.core.consumers`), never inside the platform's request.

Without multi-document transactions (the embedded engine has none), every step is
idempotent and keyed so that a redelivery can finish what a failed attempt started:
- the message is the dedup gate: a unique index on `dedup_key` lets one writer in;
- it carries an `ingest_lease` so a concurrent redelivery neither repeats side effects
  nor waits, while a redelivery after a crash (lease expired) completes the steps;
- the `message.received` event has a derived id and marks the message as done; it carries
  the names of the consumers still to handle it, in the same insert.

Every step goes through group commit (`kith.core.group_commit`): concurrent ingests share
each round trip, and each returns only once its own writes are stored, in the order above.
Steps for a known customer: read the identity and the thread's conversation (together),
insert the message, bump the conversation (conditional on the state read, else the
general `find_one_and_update`), insert the event; plus a customer and identity `last_seen`
update at most once a minute per identity; first contact adds 2.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pymongo import InsertOne, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from kith.core import metrics
from kith.core.clock import wall
from kith.core.collection import Document
from kith.core.context import Core
from kith.core.customers import Sender, resolve_identity, touch_customer, touch_due
from kith.core.events import build_event, record
from kith.core.identity_cache import Known
from kith.core.ids import derived_id, new_id
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    ChannelEvent,
    Conversation,
    ConversationGroup,
    ConversationStatus,
    Direction,
    Event,
    InboundMessage,
    Message,
    Preview,
)
from kith.core.received import Received
from kith.core.search import index_conversation
from kith.core.search_terms import text_terms
from kith.core.threads import conversation_id, thread_key

log = logging.getLogger(__name__)

INGEST_LEASE = timedelta(seconds=30)
REOPENS = (ConversationStatus.resolved, ConversationStatus.snoozed)


class Thread(NamedTuple):
    """Where a message belongs on its channel: the thread key and the sender's id there."""

    key: str
    external_user_id: str | None


def _received_event_id(message_id: str) -> str:
    return f"{message_id}.received"


async def ingest(core: Core, channel: Channel, inbound: InboundMessage) -> Received:
    """Store one inbound message exactly once and log its event once; safe to call again."""
    if inbound.channel_id != channel.id or inbound.workspace_id != channel.workspace_id:
        raise ValueError("inbound message does not belong to this channel")
    dedup_key = f"{inbound.channel_id}:{inbound.channel_message_id}"
    thread = Thread(thread_key(inbound.thread_key, inbound.user.id), inbound.user.id)
    conversation = conversation_id(inbound.workspace_id, channel.id, thread.key)
    cached = (conversation, inbound.user.id)
    generation = core.identity_cache.generation
    sender, read_at, seen = await _sender_and_conversation(core, inbound, cached)
    customer_id = sender.customer_id
    now = core.clock.now()
    message = Message(
        id=new_id(),
        workspace_id=inbound.workspace_id,
        conversation_id=conversation,
        customer_id=customer_id,
        channel_id=channel.id,
        direction=Direction.inbound,
        author=Author(kind=AuthorKind.customer, id=customer_id, name=inbound.user.name),
        text=inbound.text,
        attachments=inbound.attachments,
        channel_message_id=inbound.channel_message_id,
        reply_to=inbound.reply_to,
        payload=inbound.payload,
        created_at=now,
        sent_at=inbound.sent_at,
    )
    doc = message.to_doc()
    if inbound.control:
        doc["control"] = True
    if inbound.group is not None:  # with who posted, as the platform names them (rosters)
        doc["group"] = {**inbound.group.model_dump(), "sender": inbound.user.id}
    doc.update(
        dedup_key=dedup_key,
        thread_key=thread.key,
        external_user_id=thread.external_user_id,
        ingest_lease=wall(core.clock).now() + INGEST_LEASE,  # real seconds, in the demo too
        terms=text_terms(message.text),  # the search consumer indexes them (kith.core.search)
    )
    try:
        await core.store.grouped("messages").write(InsertOne(doc))
    except DuplicateKeyError:
        stored = await core.store.messages.find_one({"dedup_key": dedup_key})
        if stored is None:  # erased between the two calls: treat as new next time
            raise
        return await _redelivered(core, channel, stored)
    group = doc.get("group")
    step = Step(sender.new, touch=sender.stale, control=inbound.control, seen=seen, group=group)
    received = await _complete(core, channel, message, thread, step)
    if received.conversation.customer_id == customer_id:  # the sender's own thread
        touched = now if step.touch else sender.last_seen
        core.identity_cache.put(cached, Known(customer_id, touched, read_at), generation)
    return received


async def _sender_and_conversation(
    core: Core, inbound: InboundMessage, cached: tuple[str, str]
) -> tuple[Sender, datetime, Document | None]:
    """The sender, when their identity was read, and the thread's conversation as it is now
    (None: there is none).

    The identity is read alongside the conversation, unless the identity cache knows the
    sender and the conversation still names the same customer
    (`kith.core.identity_cache`)."""
    now = core.clock.now()
    known = core.identity_cache.get(cached, now)
    if known is None:
        sender, seen = await asyncio.gather(
            resolve_identity(core, inbound), _read_conversation(core, cached[0])
        )
        return sender, now, seen
    seen = await _read_conversation(core, cached[0])
    if seen is not None and seen.get("customer_id") == known.customer_id:
        due = touch_due(known.touched, now)
        return Sender(known.customer_id, False, due, known.touched), known.read_at, seen
    core.identity_cache.forget(cached)  # moved or erased since: ask the identity
    return await resolve_identity(core, inbound), now, seen


async def _redelivered(core: Core, channel: Channel, doc: dict[str, Any]) -> Received:
    """A message we have seen: answer from the store, or finish a crashed attempt."""
    metrics.MESSAGES_DUPLICATE.inc()
    message = Message.from_doc(doc)
    thread = Thread(doc["thread_key"], doc.get("external_user_id"))
    done = await core.store.events.find_one({"_id": _received_event_id(message.id)}, {"_id": 1})
    if done is None:
        now = wall(core.clock).now()
        claimed = await core.store.messages.find_one_and_update(
            {"_id": message.id, "ingest_lease": {"$lte": now}},
            {"$set": {"ingest_lease": now + INGEST_LEASE}},
        )
        if claimed is not None:
            log.info("finishing an interrupted ingest", extra={"message_id": message.id})
            seen = await _read_conversation(core, message.conversation_id)
            step = Step(False, touch=True, control=_control(doc), seen=seen, group=doc.get("group"))
            return await _complete(core, channel, message, thread, step)
    conversation = await core.store.conversations.find_one({"_id": message.conversation_id})
    if conversation is None:  # the first attempt has not opened it yet; show what it will be
        conversation = _new_conversation(channel, message, thread, doc.get("group")).to_doc()
    return Received(
        message=message,
        conversation=Conversation.from_doc(conversation),
        channel=channel,
        new_customer=False,
        new_conversation=False,
        reopened=False,
        duplicate=True,
    )


def _new_conversation(
    channel: Channel, message: Message, thread: Thread, group: Document | None = None
) -> Conversation:
    return Conversation(
        id=message.conversation_id,
        workspace_id=message.workspace_id,
        customer_id=message.customer_id,
        channel_id=channel.id,
        channel_type=channel.type,
        thread_key=thread.key,
        external_user_id=thread.external_user_id,
        last_message_at=message.created_at,
        unread_count=1,
        waiting_since=message.created_at,
        preview=Preview.of(message),
        group=ConversationGroup.of(group) if group else None,
        created_at=message.created_at,
    )


async def _open_conversation(
    core: Core,
    channel: Channel,
    message: Message,
    thread: Thread,
    seen: Document | None,
    group: Document | None = None,
) -> tuple[Conversation, bool, bool]:
    """Bump the thread's conversation (reopening it if resolved or snoozed), or open it.

    `seen` is the conversation as read before the message was stored (None: there was
    none). The write is conditional on that state, so it can go out with other callers'
    writes and still tell exactly whether it opened or reopened the conversation; if the
    state changed meanwhile (the upsert then clashes on `_id`), the general path runs. The
    conversation returned is `seen` plus this bump (another writer's bump in between, which
    leaves the status alone, is not shown in its counters).
    """
    fresh = _new_conversation(channel, message, thread, group)
    before = Conversation.from_doc(seen) if seen is not None else None
    kept = before is not None and before.status == ConversationStatus.pending
    condition = {"$exists": False} if before is None else before.status.value
    request = UpdateOne(
        {"_id": fresh.id, "status": condition},
        _bump(fresh, message, keep_status=kept),
        upsert=True,
    )
    try:
        created = await core.store.grouped("conversations").write(request) is not None
    except DuplicateKeyError:
        return _after(fresh, message, await _bump_as_found(core, fresh, message))
    return _after(fresh, message, None if created else seen)


def _bump(fresh: Conversation, message: Message, *, keep_status: bool) -> dict[str, Any]:
    """The update for a new inbound message; `keep_status` leaves a pending conversation (a
    bot has it) pending. A group's name is set on every message, so a renamed group reads
    by its new name (a connector that has no name to say leaves the known one)."""
    on_insert = fresh.to_doc()
    for key in ("_id", "status", "last_message_at", "unread_count", "snoozed_until", "preview"):
        on_insert.pop(key)
    on_insert.pop("waiting_since")
    on_insert.pop("group", None)
    latest: dict[str, Any] = {"preview": Preview.of(message).model_dump()}
    if fresh.group is not None:
        group = fresh.group.model_dump(exclude_none=True)
        latest.update({f"group.{key}": value for key, value in group.items()})
    bump: dict[str, Any] = {
        "$inc": {"unread_count": 1, "inbound_count": 1},
        "$max": {"last_message_at": message.created_at},
        "$min": {"waiting_since": message.created_at},
        "$setOnInsert": on_insert,
        "$set": latest,
    }
    if not keep_status:
        latest.update(status=ConversationStatus.open.value, snoozed_until=None)
    return bump


async def _bump_as_found(core: Core, fresh: Conversation, message: Message) -> Document | None:
    """The bump whatever the conversation's state; the conversation as it was (None: new)."""
    try:
        return await core.store.conversations.find_one_and_update(
            {"_id": fresh.id, "status": {"$ne": ConversationStatus.pending.value}},
            _bump(fresh, message, keep_status=False),
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
    except DuplicateKeyError:  # it exists and is pending (a bot has it): leave the status
        bump = _bump(fresh, message, keep_status=True)
        bump.pop("$setOnInsert")
        return await core.store.conversations.find_one_and_update({"_id": fresh.id}, bump)


def _after(
    fresh: Conversation, message: Message, before: Document | None
) -> tuple[Conversation, bool, bool]:
    """The conversation after the bump from its state `before` (None: this message opened
    it), whether it is new and whether the message reopened it."""
    if before is None:
        return fresh, True, False
    conversation = Conversation.from_doc(before)
    reopened = conversation.status in REOPENS
    if conversation.status != ConversationStatus.pending:
        conversation.status = ConversationStatus.open
        conversation.snoozed_until = None
    conversation.unread_count += 1
    conversation.inbound_count += 1
    conversation.last_message_at = max(conversation.last_message_at, message.created_at)
    conversation.waiting_since = min(
        conversation.waiting_since or message.created_at, message.created_at
    )
    conversation.preview = Preview.of(message)
    return conversation, False, reopened


class Step(NamedTuple):
    """What the rest of an ingest carries from its start: whether the customer is new,
    whether their `last_seen` is due, whether it is a control message, and the thread's
    conversation as read before the message was stored (None: there was none)."""

    new_customer: bool
    touch: bool
    control: bool
    seen: Document | None
    group: Document | None = None  # the group it was posted in (`GroupRef`), for communities


async def _read_conversation(core: Core, conversation_id: str) -> Document | None:
    return await core.store.grouped("conversations").find_one({"_id": conversation_id})


async def _complete(
    core: Core, channel: Channel, message: Message, thread: Thread, step: Step
) -> Received:
    """Bump the conversation and record the event; a due `last_seen` update runs alongside
    (its two writes take as long as these two, so concurrent ingests stay in step)."""
    recording = _open_and_record(core, channel, message, thread, step)
    if not step.touch:
        return await recording
    received, _ = await asyncio.gather(
        recording, touch_customer(core, message, thread.external_user_id)
    )
    return received


async def _open_and_record(
    core: Core, channel: Channel, message: Message, thread: Thread, step: Step
) -> Received:
    conversation, created, reopened = await _open_conversation(
        core, channel, message, thread, step.seen, step.group
    )
    event = build_event(
        core,
        message.workspace_id,
        "message.received",
        actor=message.author,
        event_id=_received_event_id(message.id),
        conversation_id=conversation.id,
        customer_id=message.customer_id,
        message_id=message.id,
        data={
            "new_customer": step.new_customer,
            "new_conversation": created,
            "reopened": reopened,
            "channel_type": channel.type,
            **({"control": True} if step.control else {}),
            **({"group": step.group, "channel_id": channel.id} if step.group else {}),
        },
    )
    if await record(core, event):  # else another attempt finished first
        metrics.MESSAGES_INGESTED.labels(channel_type=channel.type).inc()
    return Received(message, conversation, channel, step.new_customer, created, reopened)


def _control(doc: dict[str, Any]) -> bool:
    return bool(doc.get("control"))


async def ingest_edit(
    core: Core,
    channel: Channel,
    channel_message_id: str,
    text: str,
    sent_at: datetime | None = None,
) -> Message | None:
    """The customer edited a message: store the new text, keep the old one in `edits`.

    `sent_at` is when the platform says the edit was made: an edit older than the one stored
    (a late redelivery; a platform that sends updates in parallel) changes nothing, so the
    text kept, and what moderation judges, is the newest (`edit_sent_at`)."""
    now = core.clock.now()
    dedup_key = f"{channel.id}:{channel_message_id}"
    query: dict[str, Any] = {"dedup_key": dedup_key}
    changes: dict[str, Any] = {"text": text, "edited_at": now, "terms": text_terms(text)}
    if sent_at is not None:
        query["$or"] = [{"edit_sent_at": None}, {"edit_sent_at": {"$lt": sent_at}}]
        changes["edit_sent_at"] = sent_at
        newer = {"$set": {"edit_sent_at": sent_at}}  # back to the text stored: only newer
        if (await core.store.messages.update_one({**query, "text": text}, newer)).matched_count:
            return None
    before = await core.store.messages.find_one_and_update(
        {**query, "text": {"$ne": text}}, {"$set": changes}
    )
    if before is None:  # unknown message, a redelivered or an older edit: nothing to do
        return None
    await core.store.messages.update_one(
        {"_id": before["_id"]},
        {"$push": {"edits": {"text": before.get("text", ""), "replaced_at": now}}},
    )
    message = Message.from_doc({**before, "text": text, "edited_at": now})
    await index_conversation(core, message.conversation_id)  # its old words no longer find it
    await record(
        core,
        build_event(
            core,
            message.workspace_id,
            "message.edited",
            actor=message.author,
            conversation_id=message.conversation_id,
            customer_id=message.customer_id,
            message_id=message.id,
        ),
    )
    return message


async def ingest_delete(core: Core, channel: Channel, channel_message_id: str) -> bool:
    """The customer deleted a message on the platform: mark it (the agent still sees it)."""
    doc = await core.store.messages.find_one_and_update(
        {"dedup_key": f"{channel.id}:{channel_message_id}", "deleted": {"$ne": True}},
        {"$set": {"deleted": True}},
    )
    if doc is None:
        return False
    await record(
        core,
        build_event(
            core,
            doc["workspace_id"],
            "message.deleted",
            conversation_id=doc["conversation_id"],
            customer_id=doc["customer_id"],
            message_id=doc["_id"],
        ),
    )
    return True


async def ingest_event(core: Core, channel: Channel, event: ChannelEvent) -> bool:
    """Record a non-message channel event (`channel.<kind>`) once, for consumers to react to.

    The sender is resolved to a customer like a message's sender; the event keeps what a
    consumer needs to rebuild the `ChannelEvent` (`channel_event_of`). Returns False for a
    redelivery (nothing recorded again).
    """
    as_inbound = InboundMessage(
        workspace_id=event.workspace_id,
        channel_id=event.channel_id,
        channel_type=event.channel_type,
        channel_message_id=f"event:{event.event_id}",
        user=event.user,
    )
    customer_id = (await resolve_identity(core, as_inbound)).customer_id
    logged = build_event(
        core,
        event.workspace_id,
        f"channel.{event.kind.value}",
        actor=Author(kind=AuthorKind.customer, id=customer_id, name=event.user.name),
        event_id=derived_id("channel-event", event.channel_id, event.event_id),
        customer_id=customer_id,
        conversation_id=conversation_id(
            event.workspace_id, event.channel_id, thread_key(event.thread_key, event.user.id)
        ),
        data={"channel_id": event.channel_id, **event.model_dump(mode="json", exclude=_KEPT)},
    )
    return await record(core, logged)


_KEPT = {"workspace_id", "channel_id"}


def channel_event_of(event: Event) -> ChannelEvent:
    """The `ChannelEvent` a `channel.<kind>` event was recorded from."""
    return ChannelEvent.model_validate(
        {**event.data, "workspace_id": event.workspace_id, "channel_id": event.data["channel_id"]}
    )
