"""Outbound messages and the durable outbox that delivers them.

`send()` stores the message with `delivery.status = pending`: the message document *is*
the outbox entry, so storing it and queueing it are one atomic write. Any number of
`OutboxWorker`s (across processes) claim due messages with a lease held in the document,
deliver them through the channel's sender, and retry with exponential backoff (or the
channel's retry-after) until delivered or given up.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import uuid
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.core import metrics
from kith.core.channel_records import ChannelConfigInvalid
from kith.core.channel_records import load as load_channel
from kith.core.context import Core
from kith.core.errors import DeliveryDeferred, DeliveryError, InvalidInput
from kith.core.events import build_event, record
from kith.core.ids import new_id
from kith.core.models import (
    Author,
    AuthorKind,
    Conversation,
    Delivery,
    DeliveryStatus,
    Direction,
    Message,
    OutboundContent,
)
from kith.core.waiting import wait_any

log = logging.getLogger(__name__)

PENDING = DeliveryStatus.pending.value


async def send(
    core: Core,
    conversation: Conversation,
    content: OutboundContent,
    author: Author,
    *,
    message_id: str | None = None,
) -> Message:
    """Store an outbound message (or a private note) and queue it for delivery.

    A consumer that may run twice for one cause passes a `message_id` derived from it: the
    second send returns the stored message and changes nothing.
    """
    if not content.text.strip() and not content.attachments:
        raise InvalidInput("a message needs text or an attachment", field="text")
    now = core.clock.now()
    message = Message(
        id=message_id or new_id(),
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        channel_id=conversation.channel_id,
        direction=Direction.outbound,
        author=author,
        text=content.text,
        attachments=content.attachments,
        buttons=content.buttons,
        reply_to=content.reply_to,
        private=content.private,
        created_at=now,
        delivery=None if content.private else Delivery(next_attempt_at=now),
    )
    try:
        await core.store.messages.insert_one(message.to_doc())
    except DuplicateKeyError:
        stored = await core.store.messages.find_one({"_id": message.id})
        if message_id is None or stored is None:
            raise
        return Message.from_doc(stored)
    touch: dict[str, Any] = {"$max": {"last_message_at": now}}
    if author.kind == AuthorKind.agent and not content.private:
        touch["$unset"] = {"waiting_since": ""}  # a person answered: the customer waits no more
    await core.store.conversations.update_one({"_id": conversation.id}, touch)
    await record(
        core,
        build_event(
            core,
            conversation.workspace_id,
            "note.created" if content.private else "message.created",
            actor=author,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            message_id=message.id,
        ),
    )
    if not content.private:
        core.outbox_wakeup.set()
    return message


async def part_sent(core: Core, message: Message, parts: int) -> None:
    """A channel that delivers a message in several calls records each part as it goes out,
    so that a retry after a failure part-way sends only the rest."""
    message.delivery = (message.delivery or Delivery()).model_copy(update={"parts_sent": parts})
    await core.store.messages.update_one(
        {"_id": message.id}, {"$set": {"delivery.parts_sent": parts}}
    )


async def retry(core: Core, workspace_id: str, message_id: str) -> bool:
    """Queue a failed message again (an agent's retry button)."""
    result = await core.store.messages.update_one(
        {"_id": message_id, "workspace_id": workspace_id, "delivery.status": "failed"},
        {
            "$set": {
                "delivery.status": PENDING,
                "delivery.attempts": 0,
                "delivery.error": None,
                "delivery.next_attempt_at": core.clock.now(),
            }
        },
    )
    if result.modified_count:
        core.outbox_wakeup.set()
    return bool(result.modified_count)


class OutboxWorker:
    """Claims due outbound messages one at a time under a lease and delivers them."""

    def __init__(self, core: Core, owner: str | None = None) -> None:
        self.core = core
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.settings = core.settings

    async def claim(self) -> Message | None:
        now = self.core.clock.now()
        lease = timedelta(seconds=self.settings.outbox_lease_seconds)
        doc = await self.core.store.messages.find_one_and_update(
            {
                "delivery.status": PENDING,
                "delivery.next_attempt_at": {"$lte": now},
                "$or": [{"delivery.lease_until": None}, {"delivery.lease_until": {"$lte": now}}],
            },
            {"$set": {"delivery.lease_until": now + lease, "delivery.lease_owner": self.owner}},
            sort=[("delivery.next_attempt_at", 1)],
            return_document=ReturnDocument.AFTER,
        )
        return Message.from_doc(doc) if doc else None

    async def run_once(self, limit: int = 1000) -> int:
        """Deliver every message due now (up to `limit`); returns how many were handled."""
        handled = 0
        while handled < limit:
            message = await self.claim()
            if message is None:
                break
            await self.deliver(message)
            handled += 1
        return handled

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The background loop of `kith serve`: wakes on new sends or every poll interval."""
        while not stop.is_set():
            try:
                await self.run_once()
                metrics.OUTBOX_DEPTH.set(
                    await self.core.store.messages.count_documents({"delivery.status": PENDING})
                )
            except Exception:
                log.exception("outbox pass failed")
            self.core.outbox_wakeup.clear()
            await wait_any((stop, self.core.outbox_wakeup), self.settings.outbox_poll_seconds)

    async def deliver(self, message: Message) -> None:
        store = self.core.store
        channel_doc = await store.channels.find_one({"_id": message.channel_id})
        conv_doc = await store.conversations.find_one({"_id": message.conversation_id})
        if channel_doc is None or conv_doc is None:
            await self._give_up(message, "channel or conversation no longer exists")
            return
        try:
            channel = load_channel(self.core, channel_doc)
        except ChannelConfigInvalid as exc:
            # Retried with backoff: the message goes out once an admin fixes the config.
            await self._failed_attempt(message, DeliveryError(exc.message))
            return
        channel_type = self.core.channels.get(channel.type)
        if channel_type is None or not channel.enabled:
            await self._give_up(message, f"channel {channel.name!r} is disabled or unknown")
            return
        try:
            result = await channel_type.sender.send(
                self.core, channel, Conversation.from_doc(conv_doc), message
            )
        except DeliveryDeferred as exc:
            await self._defer(message, exc.retry_after)
            return
        except DeliveryError as exc:
            await self._failed_attempt(message, exc)
            return
        except Exception as exc:
            log.exception("sender crashed", extra={"message_id": message.id})
            await self._failed_attempt(message, DeliveryError(f"{type(exc).__name__}: {exc}"))
            return
        await self._mark(
            message,
            {
                "delivery.status": DeliveryStatus.sent.value,
                "delivery.sent_at": self.core.clock.now(),
                "delivery.error": None,
                "channel_message_id": result.channel_message_id,
            },
            "message.delivered",
        )
        metrics.OUTBOX_SENT.labels(channel_type=channel.type).inc()

    def backoff(self, attempts: int) -> float:
        """Exponential backoff with jitter: base, 2×base, 4×base … capped."""
        delay = self.settings.outbox_backoff_base * 2.0 ** max(attempts - 1, 0)
        jitter = random.uniform(0.8, 1.0)  # noqa: S311 (jitter, not cryptography)
        return min(delay, self.settings.outbox_backoff_max) * jitter

    async def _failed_attempt(self, message: Message, exc: DeliveryError) -> None:
        attempts = (message.delivery.attempts if message.delivery else 0) + 1
        if not exc.retryable or attempts >= self.settings.outbox_max_attempts:
            await self._give_up(message, exc.message, attempts)
            return
        delay = exc.retry_after if exc.retry_after is not None else self.backoff(attempts)
        metrics.OUTBOX_RETRIED.inc()
        log.warning(
            "delivery failed, will retry",
            extra={"message_id": message.id, "attempts": attempts, "error": exc.message},
        )
        await self._mark(
            message,
            {
                "delivery.attempts": attempts,
                "delivery.error": exc.message,
                "delivery.next_attempt_at": self.core.clock.now() + timedelta(seconds=delay),
            },
            None,
        )

    async def _defer(self, message: Message, seconds: float) -> None:
        """Reschedule without spending an attempt (rate limits are not failures)."""
        due = self.core.clock.now() + timedelta(seconds=max(seconds, 0.001))
        await self._mark(message, {"delivery.next_attempt_at": due}, None)

    async def _give_up(self, message: Message, error: str, attempts: int | None = None) -> None:
        metrics.OUTBOX_FAILED.inc()
        log.error("delivery given up", extra={"message_id": message.id, "error": error})
        update: dict[str, object] = {"delivery.status": "failed", "delivery.error": error}
        if attempts is not None:
            update["delivery.attempts"] = attempts
        await self._mark(message, update, "message.failed", {"error": error})

    async def _mark(
        self,
        message: Message,
        update: dict[str, object],
        event_type: str | None,
        data: dict[str, object] | None = None,
    ) -> None:
        """Write the outcome, but only while this worker still holds the lease."""
        result = await self.core.store.messages.update_one(
            {"_id": message.id, "delivery.lease_owner": self.owner},
            {"$set": update, "$unset": {"delivery.lease_until": "", "delivery.lease_owner": ""}},
        )
        if result.modified_count and event_type:
            await record(
                self.core,
                build_event(
                    self.core,
                    message.workspace_id,
                    event_type,
                    conversation_id=message.conversation_id,
                    customer_id=message.customer_id,
                    message_id=message.id,
                    data=dict(data or {}),
                ),
            )
