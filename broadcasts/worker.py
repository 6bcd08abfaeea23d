"""The broadcast worker: every `kith serve` process runs one.

Each pass starts the scheduled broadcasts that are due, materialises audiences
(`kith.broadcasts.audience`), and claims due recipients of the sending broadcasts under a
lease written into the recipient (as the outbox claims messages). A claimed recipient is
decided by the courtesy policy: held until a time, skipped with a reason, or sent through
the outbox with an id derived from (broadcast, customer), so that a worker killed after
the send and before recording it sends nothing twice: the next claimer finds the message
and records it as sent.

Fairness with service replies: the outbox delivers oldest-due first, so a broadcast that
queued 20,000 messages at once would put every service reply behind them. The worker keeps
at most `broadcast_outbox_window` marketing messages pending per channel in the outbox and
claims only what fits, so a service reply waits behind that window at most.

A claimed batch's customers and their languages (`kith.core.languages`: the profile's
locale, else their latest message's language) are read once for the batch, not per recipient.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kith.broadcasts import links, stats, templates
from kith.broadcasts.actions import broadcasts, move
from kith.broadcasts.audience import materialise, recipients, snapshot_filter
from kith.broadcasts.models import Broadcast, Recipient, RecipientStatus, Status
from kith.broadcasts.policy import Go, Hold, Skip, decide, take_daily_slot
from kith.broadcasts.routes import conversation_for
from kith.communities import broadcasts as community_posts
from kith.core.context import Core
from kith.core.errors import Conflict, KithError, NotFound
from kith.core.ids import derived_id, new_id
from kith.core.languages import customer_languages
from kith.core.leases import unleased, worker_owner
from kith.core.models import (
    Attachment,
    Author,
    AuthorKind,
    Button,
    Conversation,
    Customer,
    Message,
    OutboundContent,
    Purpose,
)
from kith.core.outbox import send
from kith.core.waiting import wait_any
from kith.courtesy.window import Window

log = logging.getLogger(__name__)
OPEN = [RecipientStatus.pending.value, RecipientStatus.held.value]


def message_id(broadcast_id: str, target: str) -> str:
    """The one message of a broadcast to a customer (or into a community)."""
    return derived_id("broadcast", broadcast_id, target)


@dataclass
class Claim:
    recipient: Recipient
    token: str


@dataclass(frozen=True)
class Reads:
    """A claimed batch's customers (absent: erased or merged away) and their languages."""

    customers: dict[str, Customer]
    languages: dict[str, str | None]


class BroadcastWorker:
    def __init__(self, core: Core, owner: str | None = None) -> None:
        self.core = core
        self.owner = worker_owner(owner)
        settings = core.settings
        self.batch = settings.broadcast_batch
        self.window_size = settings.broadcast_outbox_window
        self.lease = timedelta(seconds=settings.broadcast_lease_seconds)
        self.poll = settings.broadcast_poll_seconds
        self.author = Author(kind=AuthorKind.system, name="broadcast")

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("broadcast pass failed")
                handled = 0
            if not handled:
                await wait_any((stop, self.core.outbox_wakeup), self.poll)

    async def run_once(self) -> int:
        """One pass over every active broadcast; how many recipients it moved."""
        await self._start_due()
        handled = 0
        window = Window(self.core, self.window_size)
        query = {"status": {"$in": [Status.sending.value, Status.cancelled.value]}}
        query["finished_at"] = None  # type: ignore[assignment]
        async for doc in broadcasts(self.core).find(query, sort=[("_id", 1)]):
            broadcast = Broadcast.from_doc(doc)
            if broadcast.status == Status.cancelled:
                await self._skip_rest(broadcast)
                continue
            if not broadcast.audience.done:
                await materialise(self.core, broadcast, self.owner)
                broadcast = Broadcast.from_doc(
                    await broadcasts(self.core).find_one({"_id": broadcast.id}) or doc
                )
            handled += await self._send_some(broadcast, window)
        return handled

    async def _start_due(self) -> None:
        now = self.core.clock.now()
        due = {
            "status": Status.scheduled.value,
            "$or": [{"send_at": None}, {"send_at": {"$lte": now}}],
        }
        async for doc in broadcasts(self.core).find(due):
            broadcast = Broadcast.from_doc(doc)
            snapshot = await snapshot_filter(self.core, broadcast)
            extra = {"started_at": now, "audience.filter": snapshot}
            try:
                await move(self.core, broadcast, Status.sending, extra=extra)
            except Conflict:
                continue  # another process started it, or someone paused it meanwhile

    async def _channel_ids(self, broadcast: Broadcast) -> list[str]:
        """The enabled channels the broadcast could go out on (the ones `decide` routes to)."""
        if broadcast.community_ids is not None:
            return await community_posts.channel_ids(self.core, broadcast)
        query = {
            "workspace_id": broadcast.workspace_id,
            "type": {"$in": broadcast.channels},
            "enabled": True,
        }
        return list(await self.core.store.channels.distinct("_id", query))

    async def _send_some(self, broadcast: Broadcast, window: Window) -> int:
        channel_ids = await self._channel_ids(broadcast)
        # With no channel to fill (none of those types, or deleted or disabled mid-send), no
        # window limits the claim: each recipient is decided as usual and skipped as
        # unreachable, so the broadcast reaches done instead of waiting for room forever.
        room = await window.room(channel_ids) if channel_ids else self.batch
        claims = await self._claim(broadcast, min(self.batch, room)) if room else []
        if claims:
            reads = await self._read(claims)
            await asyncio.gather(*(self._handle(broadcast, c, window, reads) for c in claims))
        elif broadcast.audience.done:
            await self._finish_if_done(broadcast)
        return len(claims)

    async def _claim(self, broadcast: Broadcast, limit: int) -> list[Claim]:
        now = self.core.clock.now()
        due: dict[str, Any] = {
            "broadcast_id": broadcast.id,
            "status": {"$in": OPEN},
            "due_at": {"$lte": now},
            **unleased(now),
        }
        rows = recipients(self.core)
        cursor = rows.find(due, {"_id": 1}, sort=[("due_at", 1)], limit=limit)
        ids = [doc["_id"] async for doc in cursor]
        if not ids:
            return []
        token = new_id()
        lease = {"lease_until": now + self.lease, "lease_owner": self.owner, "claim": token}
        await rows.update_many({**due, "_id": {"$in": ids}}, {"$set": lease})
        won = await rows.find({"_id": {"$in": ids}, "claim": token}).to_list()
        return [Claim(Recipient.from_doc(doc), token) for doc in won]

    async def _read(self, claims: list[Claim]) -> Reads:
        ids = sorted({c.recipient.customer_id for c in claims if c.recipient.customer_id})
        docs = await self.core.store.customers.find(
            {"_id": {"$in": ids}, "merged_into": None}
        ).to_list(None)
        customers = {doc["_id"]: Customer.from_doc(doc) for doc in docs}
        locales = {customer.id: customer.locale for customer in customers.values()}
        return Reads(customers, await customer_languages(self.core, locales))

    async def _handle(
        self, broadcast: Broadcast, claim: Claim, window: Window, reads: Reads
    ) -> None:
        try:
            await self._decide_and_send(broadcast, claim, window, reads)
        except Exception:
            # Left to its lease: another pass (here or elsewhere) takes it again.
            log.exception("broadcast recipient failed", extra={"recipient": claim.recipient.id})

    async def _decide_and_send(
        self, broadcast: Broadcast, claim: Claim, window: Window, reads: Reads
    ) -> None:
        recipient = claim.recipient
        target = recipient.community_id or recipient.customer_id or ""
        sent = await self.core.store.messages.find_one({"_id": message_id(broadcast.id, target)})
        if sent is not None:  # a killed worker's send: record it, send nothing
            await self._sent(claim, Message.from_doc(sent))
            return
        if recipient.community_id is not None:
            await self._post(broadcast, claim, recipient.community_id, window)
            return
        customer = reads.customers.get(recipient.customer_id or "")
        if customer is None:
            await self._skip(claim, "erased")
            return
        now = self.core.clock.now()
        decision = await decide(self.core, customer, broadcast.channels, now, broadcast.send_by)
        if isinstance(decision, Hold):
            await self._hold(claim, decision.until, decision.reason)
        elif isinstance(decision, Skip):
            await self._skip(claim, str(decision.reason))
        elif isinstance(decision, Go):
            language = reads.languages.get(customer.id)
            await self._go(broadcast, claim, customer, decision, window, language)

    async def _go(
        self,
        broadcast: Broadcast,
        claim: Claim,
        customer: Customer,
        go: Go,
        window: Window,
        language: str | None,
    ) -> None:
        if not await window.take(go.route.channel_id):
            await self._release(claim)  # the outbox holds enough for this channel: later
            return
        language, source = broadcast.text_for(language)
        try:
            text = await templates.render_async(source, customer, f"message.text.{language}")
        except templates.TemplateError as exc:
            await self._skip(claim, "template_error", exc)
            return
        key = f"broadcast:{broadcast.id}"
        if not await take_daily_slot(self.core, customer, self.core.clock.now(), key):
            await self._skip(claim, "frequency_cap")
            return
        conversation = await conversation_for(self.core, customer.id, go.route)
        recipient_id, workspace_id = claim.recipient.id, broadcast.workspace_id
        text = await links.track(self.core, text, workspace_id, recipient_id)
        buttons = await links.track_buttons(
            self.core, broadcast.message.buttons, workspace_id, recipient_id
        )
        mid = message_id(broadcast.id, customer.id)
        await self._deliver(claim, conversation, text, broadcast, mid, buttons)

    async def _post(
        self, broadcast: Broadcast, claim: Claim, community_id: str, window: Window
    ) -> None:
        """Into a community's group conversation (`kith.communities.broadcasts`)."""
        now = self.core.clock.now()
        found = await community_posts.destination(self.core, broadcast, community_id, now)
        if isinstance(found, str):
            await self._skip(claim, found)
            return
        if not await window.take(found.channel_id):
            await self._release(claim)
            return
        try:
            text = community_posts.text(broadcast)
        except templates.TemplateError as exc:
            await self._skip(claim, "template_error", exc)
            return
        # Left untracked: the whole group reads the one post (`kith.broadcasts.links`).
        mid = message_id(broadcast.id, community_id)
        await self._deliver(claim, found, text, broadcast, mid, broadcast.message.buttons)

    async def _deliver(
        self,
        claim: Claim,
        conversation: Conversation,
        text: str,
        broadcast: Broadcast,
        mid: str,
        buttons: list[Button],
    ) -> None:
        image = broadcast.message.image
        content = OutboundContent(
            text=text,
            buttons=buttons,
            attachments=[Attachment.model_validate(image.model_dump())] if image else [],
            purpose=Purpose.marketing,
        )
        try:
            message = await send(self.core, conversation, content, self.author, message_id=mid)
        except KithError as exc:
            await self._finish(claim, RecipientStatus.failed, {"reason": exc.code}, "failed")
            return
        await self._sent(claim, message)

    async def _sent(self, claim: Claim, message: Message) -> None:
        fields = {
            "message_id": message.id,
            "channel_id": message.channel_id,
            "sent_at": message.created_at,
            "reason": None,
        }
        await self._finish(claim, RecipientStatus.sent, fields, "sent")

    async def _skip(self, claim: Claim, reason: str, failure: KithError | None = None) -> None:
        """`failure` (a template's for this customer) is kept with its reason, for the
        recipients' list to say why in the page's language."""
        fields: dict[str, Any] = {"reason": reason, "detail": None}
        if failure is not None:
            fields |= {
                "detail": failure.message,
                "detail_reason": failure.reason,
                "detail_limits": failure.limits,
            }
        await self._finish(claim, RecipientStatus.skipped, fields, stats.skipped_key(reason))

    async def _hold(self, claim: Claim, until: datetime, reason: str) -> None:
        update = {"status": RecipientStatus.held.value, "reason": reason, "due_at": until}
        result = await recipients(self.core).update_one(
            {"_id": claim.recipient.id, "claim": claim.token},
            {"$set": {**update, "lease_until": None}},
        )
        if result.modified_count and claim.recipient.status != RecipientStatus.held:
            await stats.bump(self.core, claim.recipient.broadcast_id, {"held": 1})

    async def _release(self, claim: Claim) -> None:
        await recipients(self.core).update_one(
            {"_id": claim.recipient.id, "claim": claim.token}, {"$set": {"lease_until": None}}
        )

    async def _finish(
        self, claim: Claim, status: RecipientStatus, fields: dict[str, Any], counter: str
    ) -> None:
        """The recipient's last move, only while this worker's claim holds; its counters."""
        result = await recipients(self.core).update_one(
            {"_id": claim.recipient.id, "claim": claim.token, "status": {"$in": OPEN}},
            {"$set": {"status": status.value, "lease_until": None, **fields}},
        )
        if not result.modified_count:
            return
        change = {counter: 1}
        if claim.recipient.status == RecipientStatus.held:
            change["held"] = -1
        await stats.bump(self.core, claim.recipient.broadcast_id, change)

    async def _skip_rest(self, broadcast: Broadcast) -> None:
        """A cancelled broadcast: every recipient not in a worker's hands is skipped."""
        now = self.core.clock.now()
        open_ = {"broadcast_id": broadcast.id, "status": {"$in": OPEN}}
        result = await recipients(self.core).update_many(
            {**open_, **unleased(now)},
            {"$set": {"status": RecipientStatus.skipped.value, "reason": "cancelled"}},
        )
        done = not await recipients(self.core).count_documents(open_, limit=1)
        if result.modified_count or done:
            await stats.recount(self.core, broadcast.id, finished_at=now if done else None)

    async def _finish_if_done(self, broadcast: Broadcast) -> None:
        open_ = {"broadcast_id": broadcast.id, "status": {"$in": OPEN}}
        if await recipients(self.core).count_documents(open_, limit=1):
            return
        now = self.core.clock.now()
        try:
            await move(self.core, broadcast, Status.done)
        except (Conflict, NotFound):
            return
        await stats.recount(self.core, broadcast.id, finished_at=now)
