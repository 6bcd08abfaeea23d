"""Outbound messages and the durable outbox that delivers them.

`send()` stores the message with `delivery.status = pending`: the message document *is*
the outbox entry, so storing it and queueing it are one atomic write. Any number of
`OutboxWorker`s (across processes) claim due messages with a lease held in the document,
deliver them through the channel's sender, and retry with exponential backoff (or the
channel's retry-after) until delivered or given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from kith.core import marketing, metrics
from kith.core.breaker import Breakers, destination
from kith.core.channel_cache import ChannelCache
from kith.core.channel_records import ChannelConfigInvalid
from kith.core.clock import as_stored
from kith.core.context import Core
from kith.core.conversation_terms import add_terms
from kith.core.errors import DeliveryDeferred, DeliveryError, InvalidInput
from kith.core.events import build_event, record
from kith.core.ids import new_id
from kith.core.leases import worker_owner
from kith.core.models import (
    Author,
    AuthorKind,
    Conversation,
    Delivery,
    DeliveryStatus,
    Direction,
    Message,
    OutboundContent,
    Preview,
    Wording,
)
from kith.core.outbox_claims import PENDING, Claimed, Claims
from kith.core.outbox_outcomes import Outcome, Outcomes
from kith.core.outbox_slots import Flight, Slots
from kith.core.search_terms import text_terms
from kith.core.waiting import wait_any

log = logging.getLogger(__name__)


async def send(
    core: Core,
    conversation: Conversation,
    content: OutboundContent,
    author: Author,
    *,
    message_id: str | None = None,
    at: datetime | None = None,
    wording: Wording | None = None,
) -> Message:
    """Store an outbound message (or a private note) and queue it for delivery.

    A consumer that may run twice for one cause passes a `message_id` derived from it: the
    second send returns the stored message and changes nothing. The insert and the
    conversation's touch are group-committed (`kith.core.group_commit`): a batch of sends made
    at once (a sequence pass) shares their round trips; a lone send goes out at once.
    `at` is when the message is written, if not now: a sender of several messages in a row
    (a bot's reply) gives each a later moment than the last, as messages read back and go
    out in time order, then by id (which need not follow the order they were said in).
    `wording` lets each reader's page say a note of Kith's own in their language.
    """
    if not content.text.strip() and not content.attachments:
        raise InvalidInput("a message needs text or an attachment", field="text")
    now = core.clock.now()
    written = now if at is None else as_stored(at)
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
        purpose=content.purpose,
        created_at=written,
        delivery=None if content.private else Delivery(next_attempt_at=now),
        wording=wording,
    )
    try:
        stored_doc = {**message.to_doc(), "terms": text_terms(content.text)}  # kith.core.search
        await core.store.grouped("messages").write(InsertOne(stored_doc))
    except DuplicateKeyError:
        stored = await core.store.messages.find_one({"_id": message.id})
        if message_id is None or stored is None:
            raise
        return Message.from_doc(stored)
    touch: dict[str, Any] = {
        "$max": {"last_message_at": written},
        "$set": {"preview": Preview.of(message).model_dump()},
    }
    if author.kind == AuthorKind.agent and not content.private:
        touch["$unset"] = {"waiting_since": ""}  # a person answered: the customer waits no more
    event = build_event(
        core,
        conversation.workspace_id,
        "note.created" if content.private else "message.created",
        actor=author,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        message_id=message.id,
    )
    searched = [] if content.private else stored_doc["terms"]  # notes are not searched
    await asyncio.gather(  # independent once the message is stored: one wait, not several
        core.store.grouped("conversations").write(UpdateOne({"_id": conversation.id}, touch)),
        add_terms(core, conversation.workspace_id, conversation.id, searched),
        record(core, event),
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
    """Claims due outbound messages under a lease and delivers many at a time.

    Sends run as tasks in `Slots`: one per conversation (in order), capped per channel and per
    workspace, fair shares first. Each send has a total deadline, and a circuit breaker per
    destination host defers a failing host's messages without spending their attempts.
    """

    def __init__(
        self, core: Core, owner: str | None = None, *, breakers: Breakers | None = None
    ) -> None:
        self.core = core
        self.owner = worker_owner(owner)
        self.settings = settings = core.settings
        self.slots = Slots(
            settings.outbox_concurrency,
            settings.outbox_channel_concurrency,
            settings.outbox_workspace_concurrency,
        )
        self.breakers = breakers or Breakers(
            core.clock,
            failures=settings.outbox_breaker_failures,
            cooldown=settings.outbox_breaker_cooldown_seconds,
        )
        # A send must end well inside its lease, or another worker would send it again.
        self.deadline = min(settings.outbox_send_timeout_seconds, settings.outbox_lease_seconds / 2)
        self.claims = Claims(core, self.owner, self.slots)
        self.channels = ChannelCache(core)
        self.outcomes = Outcomes(core, self.owner)
        # Refill when a quarter of the slots are free (or none is busy), not after each
        # send: every refill costs a query over the due messages.
        self._refill_at = max(1, settings.outbox_concurrency // 4)
        self._tasks: set[asyncio.Task[None]] = set()
        self._progress = asyncio.Event()

    async def claim(self) -> Message | None:
        """Claim the next message whose turn it is, without sending it."""
        async with contextlib.aclosing(self.claims.take(1)) as claims:
            async for claimed in claims:
                self.slots.give_back(Flight.of(claimed.message))
                return claimed.message
        return None

    async def run_once(self, limit: int = 1000) -> int:
        """Deliver every message due now (up to `limit`), many at a time, and wait for the
        outcomes; returns how many were handled. Tests drive the outbox with it."""
        handled = 0
        self.claims.forget()  # a pass looks at the store as it is now
        try:
            while True:
                self._progress.clear()
                started = await self._fill(limit - handled)
                handled += started
                if self._progress.is_set():
                    continue  # a send ended while we claimed: its conversation may go on
                if not self._tasks and not started:
                    return handled
                if self._tasks:
                    await self._progress.wait()
        finally:
            await self._settle()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The background loop of `kith serve`: refills free slots whenever a send ends or a
        new message is queued, and looks again every poll interval."""
        loop = asyncio.get_running_loop()
        next_gauge = 0.0
        try:
            while not stop.is_set():
                if self.core.outbox_wakeup.is_set():  # a new reply: not in what was read ahead
                    self.claims.forget()
                self.core.outbox_wakeup.clear()
                self._progress.clear()
                try:
                    await self._fill(self.slots.total)
                    if loop.time() >= next_gauge:
                        next_gauge = loop.time() + self.settings.outbox_poll_seconds
                        await self._report_depth()
                except Exception:
                    log.exception("outbox pass failed")
                await wait_any(
                    (stop, self.core.outbox_wakeup, self._progress),
                    self.settings.outbox_poll_seconds,
                )
        finally:
            await self._settle()

    async def _report_depth(self) -> None:
        metrics.OUTBOX_DEPTH.set(
            await self.core.store.messages.count_documents({"delivery.status": PENDING})
        )

    async def _fill(self, budget: int) -> int:
        """Claim due messages into free slots and start their sends; returns how many."""
        started = 0
        async with contextlib.aclosing(self.claims.take(budget)) as claims:
            async for claimed in claims:
                self._start(claimed)
                started += 1
        return started

    def _start(self, claimed: Claimed) -> None:
        """Send in a task; the claim already holds the message's slot."""
        self._tasks.add(asyncio.create_task(self._fly(claimed)))

    async def _fly(self, claimed: Claimed) -> None:
        message = claimed.message
        try:
            await self.deliver(message, claimed.conversation)
        except Exception:
            log.exception("recording a delivery failed", extra={"message_id": message.id})
        finally:
            # Bookkept here, not in a done callback: whoever `_progress` wakes must already
            # see this send gone.
            self._tasks.discard(asyncio.current_task())
            self.slots.give_back(Flight.of(message))
            self._wake_for_refill()

    def _wake_for_refill(self) -> None:
        """Wake the loop once enough slots are free to be worth a refill's queries."""
        if self.slots.free >= self._refill_at or not self._tasks:
            self._progress.set()

    async def _settle(self) -> None:
        """Let the sends in flight end (each is bounded by the deadline); if we are cancelled
        meanwhile, cancel them: their leases hand the messages to another worker."""
        tasks = list(self._tasks)
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.outcomes.settle()  # sends that ended are still recorded
            raise

    async def deliver(self, message: Message, conversation: Conversation | None = None) -> None:
        """Send one claimed message and record the outcome (`conversation`: read if not
        given)."""
        try:
            channel = await self.channels.get(message.channel_id)
        except ChannelConfigInvalid as exc:
            # Retried with backoff: the message goes out once an admin fixes the config.
            await self._failed_attempt(message, DeliveryError(exc.message))
            return
        if conversation is None:
            doc = await self.core.store.conversations.find_one({"_id": message.conversation_id})
            conversation = Conversation.from_doc(doc) if doc else None
        if channel is None or conversation is None:
            await self._give_up(message, "channel or conversation no longer exists")
            return
        channel_type = self.core.channels.get(channel.type)
        if channel_type is None or not channel.enabled:
            await self._give_up(message, f"channel {channel.name!r} is disabled or unknown")
            return
        withheld = await marketing.refusal(self.core, message, channel.type)
        if withheld is not None:
            update: dict[str, object] = {
                "delivery.status": DeliveryStatus.skipped.value,
                "delivery.error": withheld,
            }
            await self._mark(message, update, "message.skipped", {"reason": withheld})
            return
        host = destination(channel)
        wait = self.breakers.admit(host)
        if wait > 0:
            await self._defer(message, wait)
            return
        try:
            async with asyncio.timeout(self.deadline):
                result = await channel_type.sender.send(self.core, channel, conversation, message)
        except DeliveryDeferred as exc:
            self.breakers.released(host)
            await self._defer(message, exc.retry_after)
            return
        except DeliveryError as exc:
            self._judge(host, exc)
            await self._failed_attempt(message, exc)
            return
        except TimeoutError:
            self.breakers.failed(host)
            error = DeliveryError(f"no answer within {self.deadline:g} s")
            await self._failed_attempt(message, error)
            return
        except Exception as exc:
            self.breakers.released(host)
            log.exception("sender crashed", extra={"message_id": message.id})
            await self._failed_attempt(message, DeliveryError(f"{type(exc).__name__}: {exc}"))
            return
        self.breakers.succeeded(host)
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

    def _judge(self, host: str, exc: DeliveryError) -> None:
        """A refusal or a "come back later" means the host is up; other errors count
        against it."""
        if exc.retryable and exc.retry_after is None:
            self.breakers.failed(host)
        elif exc.retryable:
            self.breakers.released(host)
        else:
            self.breakers.succeeded(host)

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
        """Write the outcome (grouped with others', `kith.core.outbox_outcomes`), but only
        while this worker still holds the lease; the event goes with it."""
        event = None
        if event_type:
            event = build_event(
                self.core,
                message.workspace_id,
                event_type,
                conversation_id=message.conversation_id,
                customer_id=message.customer_id,
                message_id=message.id,
                data=dict(data or {}),
            )
        self.slots.sent(Flight.of(message))  # the endpoint is done: its slot may be refilled
        self._wake_for_refill()
        await self.outcomes.write(Outcome(message, update, event))
