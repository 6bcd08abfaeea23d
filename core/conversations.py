"""Conversations: read them, list them, and change status, assignee, labels and priority."""

from __future__ import annotations

from datetime import datetime
from types import EllipsisType
from typing import Any

from pydantic_core import to_jsonable_python
from pymongo import ReturnDocument

from kith.core.clock import as_stored, aware
from kith.core.context import Core
from kith.core.errors import InvalidInput, NotFound
from kith.core.events import SYSTEM, build_event, record, record_all
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    Conversation,
    ConversationGroup,
    ConversationStatus,
    Message,
    Priority,
)
from kith.core.pagination import page
from kith.core.permissions import assignee_refusal
from kith.core.search import index_conversation, search_page
from kith.core.tags import fold_tags, labelled
from kith.core.threads import conversation_id
from kith.core.timers import Timer, cancel_timer, schedule_timer

# The timer that wakes a snoozed conversation (declared by the inbox feature), one per
# conversation: snoozing again replaces it, so an earlier time never wakes it early.
SNOOZE_TIMER = "conversation.snooze"


async def get_conversation(core: Core, workspace_id: str, conversation_id: str) -> Conversation:
    doc = await core.store.conversations.find_one(
        {"_id": conversation_id, "workspace_id": workspace_id}
    )
    if doc is None:
        raise NotFound("no such conversation", field="conversation_id")
    return Conversation.from_doc(doc)


async def list_conversations(
    core: Core,
    workspace_id: str,
    *,
    status: ConversationStatus | None = None,
    assignee_id: str | None = None,
    channel_id: str | None = None,
    label: str | None = None,
    customer_id: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> tuple[list[Conversation], str | None]:
    """Newest activity first. Filters are plain strings: never operators. `q` searches
    messages and customers (`kith.core.search`)."""
    query: dict[str, Any] = {"workspace_id": workspace_id}
    for key, value in (
        ("status", status.value if status else None),
        ("assignee_id", assignee_id),
        ("channel_id", channel_id),
        ("labels", labelled(label)),
        ("customer_id", customer_id),
    ):
        if value is not None:
            query[key] = value
    if q and q.strip():
        docs, next_cursor = await search_page(
            core, workspace_id, query, q, cursor=cursor, limit=limit
        )
        return [Conversation.from_doc(d) for d in docs], next_cursor
    docs, next_cursor = await page(
        core.store.conversations,
        query,
        "last_message_at",
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    return [Conversation.from_doc(d) for d in docs], next_cursor


async def list_messages(
    core: Core, conversation: Conversation, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Message], str | None]:
    """Oldest first, so a reader can follow the thread and continue from the cursor."""
    docs, next_cursor = await page(
        core.store.messages,
        {"conversation_id": conversation.id, "workspace_id": conversation.workspace_id},
        "created_at",
        cursor=cursor,
        limit=limit,
        descending=False,
    )
    return [Message.from_doc(d) for d in docs], next_cursor


def _check_snooze(core: Core, until: datetime | None) -> datetime:
    """The moment to snooze until, in UTC as stored (a moment without a zone is UTC)."""
    if until is None:
        raise InvalidInput("snoozing needs snoozed_until", field="snoozed_until")
    if aware(until) <= core.clock.now():
        raise InvalidInput(
            "snooze until a moment still to come", field="snoozed_until", reason="snooze_past"
        )
    return as_stored(aware(until))


def _snooze_key(conversation_id: str) -> str:
    return f"snooze:{conversation_id}"


async def do_update_conversation(
    core: Core,
    conversation: Conversation,
    *,
    actor: Author = SYSTEM,
    status: ConversationStatus | None = None,
    snoozed_until: datetime | None = None,
    assignee_id: str | EllipsisType | None = ...,
    labels: list[str] | None = None,
    priority: Priority | None = None,
    team_id: str | EllipsisType | None = ...,
    if_unassigned: bool = False,
) -> Conversation:
    """Apply the changes given, record one event per kind of change, return the result.
    Every change is checked (snooze, assignee) before the one write, so a refused one leaves
    the conversation and the event log as they were. `team_id` is written as given: a
    caller taking it from a request checks it first (`kith.core.teams.ensure_team`).
    `if_unassigned` writes only while the stored conversation has no assignee: when another
    writer assigned it first, nothing is written or recorded (`do_assign_replier`)."""
    changes: dict[str, Any] = {}
    events: list[tuple[str, dict[str, Any]]] = []
    snoozed = ConversationStatus.snoozed
    after = status if status is not None else conversation.status
    if snoozed_until is not None and after != snoozed:  # refused, never silently dropped
        raise InvalidInput("snoozed_until goes with status snoozed", field="snoozed_until")
    if status is not None and status != conversation.status:
        moved: dict[str, Any] = {"from": conversation.status, "to": status}
        changes["status"] = status.value
        changes["snoozed_until"] = None
        if status == snoozed:
            changes["snoozed_until"] = moved["snoozed_until"] = _check_snooze(core, snoozed_until)
        if status == ConversationStatus.resolved:
            changes["unread_count"] = 0
            changes["read_floor"] = conversation.inbound_count  # read, for every agent
        if conversation.status == ConversationStatus.pending and status == ConversationStatus.open:
            changes["waiting_since"] = core.clock.now()  # a bot handed over: a person is due
        events.append(("conversation.status_changed", moved))
    elif snoozed_until is not None and not _same_moment(snoozed_until, conversation.snoozed_until):
        # Snoozed again until another time: the same status, a new wake-up.
        until = _check_snooze(core, snoozed_until)
        changes["snoozed_until"] = until
        events.append(
            (
                "conversation.status_changed",
                {"from": snoozed, "to": snoozed, "snoozed_until": until},
            )
        )
    if assignee_id is not ... and assignee_id != conversation.assignee_id:
        if assignee_id is not None:
            refusal = await assignee_refusal(core, conversation.workspace_id, assignee_id)
            if refusal is not None:
                raise refusal
        changes["assignee_id"] = assignee_id
        events.append(("conversation.assigned", {"assignee_id": assignee_id}))
    added: list[str] = []
    removed: list[str] = []
    if labels is not None:
        labels = fold_tags(labels)  # one label whatever its case, as tags (`kith.core.tags`)
        added = [label for label in labels if label not in conversation.labels]
        removed = [label for label in conversation.labels if label not in labels]
    # The labels event carries the labels the write leaves: it is made after the write, in
    # this place among the events.
    labels_event_at = len(events)
    if team_id is not ... and team_id != conversation.team_id:
        changes["team_id"] = team_id
        events.append(("conversation.team_changed", {"team_id": team_id}))
    if priority is not None and priority != conversation.priority:
        changes["priority"] = priority.value
        events.append(("conversation.priority_changed", {"priority": priority.value}))
    if not changes and not added and not removed:
        return conversation
    update: dict[str, Any] = {"$set": changes} if changes else {}
    if changes.get("status") == ConversationStatus.resolved.value:
        update["$unset"] = {"waiting_since": ""}  # nobody waits on a resolved conversation
    await _move_wake_up(core, conversation, changes)
    guard = {"assignee_id": None} if if_unassigned else {}
    doc = await _apply(core, conversation.id, update, added, removed, guard)
    if doc is None:  # assigned meanwhile by someone else: theirs it stays
        return await get_conversation(core, conversation.workspace_id, conversation.id)
    if added or removed:
        events.insert(
            labels_event_at, ("conversation.labels_changed", {"labels": doc.get("labels", [])})
        )
    made = [
        build_event(
            core,
            conversation.workspace_id,
            type_,
            actor=actor,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            data=to_jsonable_python(data),
        )
        for type_, data in events
    ]
    await record_all(core, made)
    return Conversation.from_doc(doc)


async def do_assign_replier(core: Core, conversation: Conversation, reply: Message) -> Conversation:
    """An agent who answers a conversation that nobody has takes it (as Chatwoot does), by the
    same change as the inbox's Assignee control, so the same `conversation.assigned` event
    tells open lists. A note, a bot's or Kith's own message, or one sent with no user behind
    it (an API token) takes nothing, and an assigned conversation stays with its assignee.
    The write is conditional on there being no assignee, so of two agents answering at once
    only the first takes it."""
    author = reply.author
    if reply.private or author.kind != AuthorKind.agent or author.id is None:
        return conversation
    if conversation.assignee_id is not None:
        return conversation
    return await do_update_conversation(
        core, conversation, actor=author, assignee_id=author.id, if_unassigned=True
    )


def _same_moment(given: datetime, stored: datetime | None) -> bool:
    return stored is not None and as_stored(aware(given)) == as_stored(aware(stored))


async def _move_wake_up(core: Core, conversation: Conversation, changes: dict[str, Any]) -> None:
    """Schedule (or move) the snooze's wake-up before the write, or drop it when the
    conversation leaves snoozed. Set first, the timer can only be late after a crash, never
    early: `wake_snoozed` checks the stored time and follows it."""
    until = changes.get("snoozed_until")
    if until is not None:
        payload = {"conversation_id": conversation.id}
        await schedule_timer(core, _snooze_key(conversation.id), SNOOZE_TIMER, until, payload)
    elif "status" in changes and conversation.status == ConversationStatus.snoozed:
        await cancel_timer(core, _snooze_key(conversation.id))


async def wake_snoozed(core: Core, timer: Timer) -> None:
    """The handler of `SNOOZE_TIMER`: reopen the conversation if it is still snoozed until a
    moment now past. A timer left from an earlier snooze (moved, or the conversation
    reopened by a message) finds the stored time still to come and follows it, or finds the
    conversation awake and does nothing."""
    conversation_id = timer.payload["conversation_id"]
    now = core.clock.now()
    snoozed = ConversationStatus.snoozed.value
    before = await core.store.conversations.find_one_and_update(
        {"_id": conversation_id, "status": snoozed, "snoozed_until": {"$lte": now}},
        {"$set": {"status": ConversationStatus.open.value, "snoozed_until": None}},
        return_document=ReturnDocument.BEFORE,
    )
    if before is None:
        later = await core.store.conversations.find_one(
            {"_id": conversation_id, "status": snoozed}, {"snoozed_until": 1}
        )
        until = later and later.get("snoozed_until")
        if until and aware(until) > now:
            await schedule_timer(core, timer.key, SNOOZE_TIMER, aware(until), timer.payload)
        return
    woken = Conversation.from_doc(before)
    event = build_event(
        core,
        woken.workspace_id,
        "conversation.status_changed",
        conversation_id=woken.id,
        customer_id=woken.customer_id,
        data={"from": snoozed, "to": ConversationStatus.open.value, "woke": True},
    )
    await record(core, event)


async def _apply(
    core: Core,
    conversation_id: str,
    update: dict[str, Any],
    added: list[str],
    removed: list[str],
    guard: dict[str, Any],
) -> dict[str, Any] | None:
    """Write a change, returning the conversation after it. Labels change as a difference
    from the caller's copy of the conversation (added with `$addToSet`, removed with
    `$pull`), so two writers labelling at once both keep their labels instead of the last one
    overwriting the first. MongoDB refuses both operators on one path in one update: a
    removal goes first. A change made only while the conversation is as `guard` says
    returns None when it is no longer."""
    conversations = core.store.conversations
    if removed:
        pull = {"$pull": {"labels": {"$in": removed}}}
        if added or update:
            await conversations.update_one({"_id": conversation_id}, pull)
        else:
            update = pull
    if added:
        update["$addToSet"] = {"labels": {"$each": added}}
    doc = await conversations.find_one_and_update(
        {"_id": conversation_id, **guard}, update, return_document=ReturnDocument.AFTER
    )
    if doc is None and guard:
        return None
    if doc is None:
        raise NotFound("no such conversation", field="conversation_id")
    return doc


async def mark_read(core: Core, conversation: Conversation, user_id: str, actor: Author) -> bool:
    """`user_id` has read the conversation as loaded: their own unread count drops to 0
    (other agents keep theirs: `Conversation.unread_for`), and so does the team's. A message
    that came after it was loaded stays unread. The event tells open lists to look again."""
    if not conversation.unread_for(user_id):
        return False
    await core.store.conversations.update_one(
        {"_id": conversation.id},
        {
            "$set": {"unread_count": 0},
            "$max": {f"read_marks.{user_id}": conversation.inbound_count},
        },
    )
    event = build_event(
        core,
        conversation.workspace_id,
        "conversation.read",
        actor=actor,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        data={"user_id": user_id},
    )
    await record(core, event)
    return True


async def ensure_conversation(
    core: Core,
    channel: Channel,
    customer_id: str,
    thread_key: str,
    external_user_id: str | None,
    group: ConversationGroup | None = None,
) -> Conversation:
    """The conversation of a thread, opened if there is none yet (for bots greeting a new
    follower or group member before they have written anything); `group` when the thread is
    a group's."""
    now = core.clock.now()
    conv = Conversation(
        id=conversation_id(channel.workspace_id, channel.id, thread_key),
        workspace_id=channel.workspace_id,
        customer_id=customer_id,
        channel_id=channel.id,
        channel_type=channel.type,
        thread_key=thread_key,
        external_user_id=external_user_id,
        last_message_at=now,
        group=group,
        created_at=now,
    ).to_doc()
    conv_id = conv.pop("_id")
    opened = await core.store.conversations.update_one(
        {"_id": conv_id}, {"$setOnInsert": conv}, upsert=True
    )
    if opened.upserted_id is not None:  # found by its customer's profile from the start
        await index_conversation(core, conv_id)
    return await get_conversation(core, channel.workspace_id, conv_id)
