"""What enrols customers by itself: the `sequence-triggers` consumer.

A sequence's triggers name an event and a value: a segment entered (its id), a tag added
(the tag: `tags_added` on `customer.created` / `customer.updated`), a WeChat subscribe from a
scene QR code (the scene id), a Telegram `/start` payload (None for a bare `/start`), a
community joined (its id) or a referrer's credited referrals reaching N (`str(N)`). Each
event asks the active sequences of its workspace whose triggers match, one indexed read
(status, triggers.kind, triggers.value) whatever the number of sequences, and enrols the
customer with the trigger as the source. Redelivery is harmless: `enrol` writes one
enrolment per (sequence, customer, round).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from kith.core.context import Core
from kith.core.errors import Conflict, NotFound
from kith.core.models import Event
from kith.sequences.enrol import enrol
from kith.sequences.models import Status, TriggerKind
from kith.sequences.store import sequences

log = logging.getLogger(__name__)

TYPES = (
    "segment.entered",
    "customer.created",
    "customer.updated",
    "channel.subscribed",
    "channel.start",
    "community.member_joined",
    "community.referral_credited",
)
CHANNEL_KINDS = {"wechat": TriggerKind.wechat_scene, "telegram": TriggerKind.telegram_start}


def fired(event: Event) -> Iterator[tuple[TriggerKind, str | None]]:
    """The (trigger kind, value) pairs `event` fires."""
    data = event.data
    if event.type == "segment.entered" and isinstance(data.get("segment_id"), str):
        yield TriggerKind.segment_entered, data["segment_id"]
    elif event.type in ("customer.created", "customer.updated"):
        for tag in data.get("tags_added") or ():
            if isinstance(tag, str):
                yield TriggerKind.tag_added, tag
    elif event.type == "channel.subscribed" and data.get("channel_type") == "wechat":
        if data.get("payload"):  # a plain follow has no scene
            yield TriggerKind.wechat_scene, str(data["payload"])
    elif event.type == "channel.start" and data.get("channel_type") == "telegram":
        payload = data.get("payload")
        yield TriggerKind.telegram_start, str(payload) if payload else None
    elif event.type == "community.member_joined" and data.get("community_id"):
        yield TriggerKind.community_joined, str(data["community_id"])
    elif event.type == "community.referral_credited" and isinstance(data.get("total"), int):
        yield TriggerKind.referrals_reached, str(data["total"])


SOURCES = {TriggerKind.segment_entered: "segment", TriggerKind.tag_added: "tag"}


def source_of(kind: TriggerKind, value: str | None) -> str:
    """How the enrolment records its cause: `segment:<id>`, `tag:<t>`, `wechat_scene:<s>` …"""
    return f"{SOURCES.get(kind, kind.value)}:{value or ''}"


async def matching(
    core: Core, workspace_id: str, kind: TriggerKind, value: str | None
) -> list[str]:
    """Ids of the workspace's active sequences with this trigger."""
    query = {
        "status": Status.active.value,
        "triggers": {"$elemMatch": {"kind": kind.value, "value": value}},
        "workspace_id": workspace_id,
    }
    docs = await sequences(core).find(query, {"_id": 1}).to_list(None)
    return [str(doc["_id"]) for doc in docs]


async def consume(core: Core, event: Event) -> None:
    """The `sequence-triggers` consumer."""
    if event.customer_id is None:
        return
    for kind, value in fired(event):
        for sequence_id in await matching(core, event.workspace_id, kind, value):
            try:
                await enrol(
                    core, event.workspace_id, sequence_id, event.customer_id, source_of(kind, value)
                )
            except (Conflict, NotFound) as exc:  # paused meanwhile, or the customer is gone
                log.info("trigger did not enrol: %s", exc, extra={"sequence_id": sequence_id})
