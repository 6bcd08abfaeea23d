"""What stops enrolments, and what customers did after a step: the `sequence-stops` consumer.

- A message from the customer marks their active enrolments (`replied_at`, the first time)
  and the latest sent run of each (for the per-step `replied` figure and `branch since
  replied`), and stops those whose version has `stop_on_reply` (reason `replied`). An
  enrolment that ended within `REPLY_WINDOW` (72 h) is marked too, with its last send if that
  went out within the window: the reply to a sequence's last message comes after the end. Control
  messages (Telegram's `/start`) and messages another feature answers itself (a consent
  keyword: that stop is an unsubscribe, below) are not replies.
- Consent revoked on a channel type the version sends on stops it (`unsubscribed`).
- The version's goal reached (its segment entered, its tag added, an order placed) stops it
  (`goal`, with `converted_at`) and marks the latest sent run converted.
- `message.delivered` of a run's message sets the run's `delivered_at`.

Every write is conditional (`state: active`, `<field>_at: None`), so a redelivered event
changes nothing twice. Most events concern customers with no active enrolment: one indexed
read (customer, state) and nothing else (for a message, the same read also finds the
enrolments that ended lately).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kith.core.context import Core
from kith.core.models import AuthorKind, ConsentState, Event, Message
from kith.sequences.models import (
    Enrolment,
    EnrolmentState,
    RunOutcome,
    SendStep,
    SequenceVersion,
    StopReason,
)
from kith.sequences.stops import stop_one
from kith.sequences.store import enrolments, get_version, runs

# How long after an enrolment ends a reply still counts for its last send (as broadcasts
# count replies within 72 h of theirs).
REPLY_WINDOW = timedelta(hours=72)
ENDED = [EnrolmentState.completed.value, EnrolmentState.stopped.value]
TYPES = (
    "message.received",
    "message.delivered",
    "consent.changed",
    "segment.entered",
    "customer.updated",
    "order.created",  # recorded by the orders feature, when installed
)


async def consume(core: Core, event: Event) -> None:
    """The `sequence-stops` consumer."""
    if event.type == "message.delivered":
        await _delivered(core, event)
        return
    if event.customer_id is None:
        return
    if event.type == "message.received":
        await _replied(core, event, await _open(core, event))
        return
    active = await _active(core, event.workspace_id, event.customer_id)
    if not active:
        return
    if event.type == "consent.changed":
        await _unsubscribed(core, event, active)
    else:
        await _goal(core, event, active)


async def _active(core: Core, workspace_id: str, customer_id: str) -> list[Enrolment]:
    query = {
        "customer_id": customer_id,
        "state": EnrolmentState.active.value,
        "workspace_id": workspace_id,
    }
    return [Enrolment.from_doc(d) async for d in enrolments(core).find(query)]


async def _open(core: Core, event: Event) -> list[Enrolment]:
    """The customer's active enrolments, and those that ended within `REPLY_WINDOW` before
    `event`: a reply to a sequence's last message comes after its enrolment completed."""
    since = event.created_at - REPLY_WINDOW
    query = {
        "customer_id": event.customer_id,
        "workspace_id": event.workspace_id,
        "$or": [
            {"state": EnrolmentState.active.value},
            {"state": {"$in": ENDED}, "finished_at": {"$gte": since}},
        ],
    }
    return [Enrolment.from_doc(d) async for d in enrolments(core).find(query)]


async def _versions(core: Core, active: list[Enrolment]) -> dict[tuple[str, int], SequenceVersion]:
    keys = {(e.sequence_id, e.version) for e in active}
    return {key: await get_version(core, *key) for key in keys}


async def _replied(core: Core, event: Event, found: list[Enrolment]) -> None:
    if not found:
        return
    if event.actor.kind != AuthorKind.customer or event.data.get("control"):
        return
    if await _answered_elsewhere(core, event):
        return
    found = [e for e in found if e.enrolled_at < event.created_at]  # no earlier message
    active = [e for e in found if e.state == EnrolmentState.active]
    for ended in (e for e in found if e.state != EnrolmentState.active):
        await _ended_replied(core, ended, event)
    versions = await _versions(core, active)
    for enrolment in active:
        await _mark_enrolment(core, enrolment, "replied_at", event)
        await _mark_latest_run(core, enrolment, "replied_at", event)
        if versions[(enrolment.sequence_id, enrolment.version)].stop_on_reply:
            await stop_one(core, enrolment, StopReason.replied)


async def _ended_replied(core: Core, enrolment: Enrolment, event: Event) -> None:
    """A reply after the enrolment ended counts for its last send, as a click on it does,
    when that send went out within `REPLY_WINDOW`; nothing stops (it has ended)."""
    since = event.created_at - REPLY_WINDOW
    if await _mark_latest_run(core, enrolment, "replied_at", event, since=since):
        await _mark_enrolment(core, enrolment, "replied_at", event)


async def _answered_elsewhere(core: Core, event: Event) -> bool:
    """A message a feature answers itself (a consent keyword) is not a reply to a step."""
    doc = await core.store.messages.find_one({"_id": event.message_id})
    if doc is None:
        return False
    message = Message.from_doc(doc)
    for feature in core.features:
        for answers in feature.answers:
            if await answers(core, message):
                return True
    return False


def sends_on(version: SequenceVersion) -> set[str]:
    """Every channel type the version may send on (its own and its send steps')."""
    types = set(version.channels)
    for step in version.steps:
        if isinstance(step, SendStep) and step.channels:
            types.update(step.channels)
    return types


async def _unsubscribed(core: Core, event: Event, active: list[Enrolment]) -> None:
    if event.data.get("to") != ConsentState.revoked.value:
        return
    versions = await _versions(core, active)
    for enrolment in active:
        if event.data.get("channel_type") in sends_on(
            versions[(enrolment.sequence_id, enrolment.version)]
        ):
            await stop_one(core, enrolment, StopReason.unsubscribed)


def reached(version: SequenceVersion, event: Event) -> bool:
    """Whether `event` is the version's goal: its segment entered, its tag added, or an order
    placed (an imported order is history, not a conversion)."""
    goal = version.goal
    if goal is None:
        return False
    if event.type == "order.created":
        return bool(goal.order_placed) and event.data.get("source") != "import"
    if event.type == "segment.entered":
        return goal.segment_id is not None and event.data.get("segment_id") == goal.segment_id
    return goal.tag is not None and goal.tag in (event.data.get("tags_added") or ())


async def _goal(core: Core, event: Event, active: list[Enrolment]) -> None:
    versions = await _versions(core, active)
    for enrolment in active:
        if reached(versions[(enrolment.sequence_id, enrolment.version)], event):
            # The run first: a redelivered event finds the enrolment stopped, not active.
            await _mark_latest_run(core, enrolment, "converted_at", event)
            await stop_one(core, enrolment, StopReason.goal)


async def _mark_enrolment(core: Core, enrolment: Enrolment, field: str, event: Event) -> None:
    await enrolments(core).update_one(
        {"_id": enrolment.id, field: None}, {"$set": {field: event.created_at}}
    )


async def _mark_latest_run(
    core: Core, enrolment: Enrolment, field: str, event: Event, since: datetime | None = None
) -> bool:
    """The enrolment's latest sent run before `event` (and not before `since`) gets `field`
    (once); False when there is no such run."""
    at: dict[str, Any] = {"$lte": event.created_at}
    if since is not None:
        at["$gte"] = since
    query = {"enrolment_id": enrolment.id, "outcome": RunOutcome.sent.value, "at": at}
    latest = await runs(core).find_one(query, {"_id": 1}, sort=[("at", -1), ("_id", -1)])
    if latest is not None:
        await runs(core).update_one(
            {"_id": latest["_id"], field: None}, {"$set": {field: event.created_at}}
        )
    return latest is not None


async def _delivered(core: Core, event: Event) -> None:
    if event.message_id is None:
        return
    await runs(core).update_one(
        {"message_id": event.message_id, "delivered_at": None},
        {"$set": {"delivered_at": event.created_at}},
    )
