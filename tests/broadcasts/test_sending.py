"""Sending: each (broadcast, customer) once, through pause, resume, cancel and a dead worker;
the outbox holds a bounded window of marketing; counters follow the recipients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kith.broadcasts.actions import (
    do_cancel,
    do_create_broadcast,
    do_pause,
    do_resume,
    do_schedule,
    get_broadcast,
)
from kith.broadcasts.audience import materialise, recipients
from kith.broadcasts.models import Broadcast, BroadcastIn, Status
from kith.broadcasts.worker import BroadcastWorker, message_id
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.events import build_event, record
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    Customer,
    InboundUser,
    OutboundContent,
    Purpose,
)
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from tests.support.callbacks import CallbackServer
from tests.support.cast import inbound
from tests.support.consumers import drain

MARKETER = Author(kind=AuthorKind.agent, id="m1", name="Mia")
TEXT = {"en": "Hello {{ customer.name }}", "zh": "你好 {{ customer.name }}"}


async def start(core: Core, customers: list[Customer], **fields: Any) -> Broadcast:
    body = BroadcastIn.model_validate(
        {
            "name": "Spring sale",
            "customer_ids": [c.id for c in customers],
            "message": {"text": TEXT},
            "channels": ["api"],
            **fields,
        }
    )
    made = await do_create_broadcast(core, customers[0].workspace_id, body, MARKETER)
    return await do_schedule(core, made, MARKETER)


async def finish(core: Core, broadcast: Broadcast, *workers: BroadcastWorker) -> Broadcast:
    """Run the workers (and the outbox) until the broadcast ends."""
    workers = workers or (BroadcastWorker(core),)
    for _ in range(200):
        for worker in workers:
            await worker.run_once()
        await OutboxWorker(core).run_once()
        current = await get_broadcast(core, broadcast.workspace_id, broadcast.id)
        if current.finished_at is not None:
            return current
    raise AssertionError("the broadcast never finished")


async def marketing(core: Core) -> list[dict[str, Any]]:
    return await core.store.messages.find({"purpose": Purpose.marketing.value}).to_list()


async def test_every_recipient_gets_one_message_in_their_language(
    bcore: Core, people: Callable[..., Any], callbacks: CallbackServer
) -> None:
    customers = [*await people(20), *await people(5, prefix="zh", locale="zh-CN")]
    done = await finish(bcore, await start(bcore, customers))
    assert done.status == Status.done
    assert (done.stats.targeted, done.stats.sent, done.stats.skipped) == (25, 25, {})
    sent = await marketing(bcore)
    assert sorted(m["_id"] for m in sent) == sorted(message_id(done.id, c.id) for c in customers)
    texts = {m["customer_id"]: m["text"] for m in sent}
    assert texts[customers[0].id] == "Hello Person 0"
    assert texts[customers[-1].id] == "你好 Person 4"
    assert len(callbacks.requests) == 25


async def test_pause_stops_claiming_and_resume_sends_the_rest_once(
    bcore: Core, people: Callable[..., Any]
) -> None:
    bcore.settings.broadcast_batch = 4
    customers = await people(10)
    broadcast = await start(bcore, customers)
    worker = BroadcastWorker(bcore)
    assert await worker.run_once() == 4
    paused = await do_pause(
        bcore, await get_broadcast(bcore, broadcast.workspace_id, broadcast.id), MARKETER
    )
    assert await worker.run_once() == 0
    assert len(await marketing(bcore)) == 4
    await do_resume(bcore, paused, MARKETER)
    done = await finish(bcore, broadcast)
    assert done.stats.sent == 10
    assert len(await marketing(bcore)) == 10


async def test_cancel_skips_the_rest_with_a_reason(bcore: Core, people: Callable[..., Any]) -> None:
    bcore.settings.broadcast_batch = 3
    customers = await people(8)
    broadcast = await start(bcore, customers)
    await BroadcastWorker(bcore).run_once()
    current = await get_broadcast(bcore, broadcast.workspace_id, broadcast.id)
    await do_cancel(bcore, current, MARKETER)
    done = await finish(bcore, broadcast)
    assert done.status == Status.cancelled
    assert (done.stats.sent, done.stats.skipped) == (3, {"cancelled": 5})
    assert len(await marketing(bcore)) == 3


async def test_a_dead_workers_recipients_come_back_after_its_lease_and_go_out_once(
    bcore: Core, people: Callable[..., Any], clock: ManualClock
) -> None:
    """Worker A claims and dies; one of its sends was stored before it died. B waits for the
    lease, then records that one as sent (no second message) and sends the others."""
    customers = await people(6)
    broadcast = await start(bcore, customers)
    dead = BroadcastWorker(bcore, owner="dead")
    await dead._start_due()
    started = await get_broadcast(bcore, broadcast.workspace_id, broadcast.id)
    await materialise(bcore, started, "dead")
    claims = await dead._claim(started, 100)
    assert len(claims) == 6
    first = customers[0]
    conversation = (await bcore.store.conversations.find_one({"customer_id": first.id})) or {}
    await send(
        bcore,
        await get_conversation(bcore, first.workspace_id, conversation["_id"]),
        OutboundContent(text="Hello Person 0", purpose=Purpose.marketing),
        Author(kind=AuthorKind.system, name="broadcast"),
        message_id=message_id(broadcast.id, first.id),
    )
    other = BroadcastWorker(bcore, owner="other")
    assert await other.run_once() == 0  # all of it is under the dead worker's lease
    clock.advance(bcore.settings.broadcast_lease_seconds + 1)
    done = await finish(bcore, broadcast, other)
    assert done.stats.sent == 6
    assert len(await marketing(bcore)) == 6
    await dead._finish(claims[1], claims[1].recipient.status, {"reason": "late"}, "sent")
    row = await recipients(bcore).find_one({"_id": claims[1].recipient.id})
    assert row["status"] == "sent" and row["reason"] is None  # the stale claim wrote nothing


async def test_the_outbox_holds_at_most_a_window_of_marketing_per_channel(
    bcore: Core, people: Callable[..., Any], channel: Channel
) -> None:
    """A service reply queued during a broadcast waits behind at most the window."""
    bcore.settings.broadcast_outbox_window = 5
    customers = await people(12)
    broadcast = await start(bcore, customers)
    worker = BroadcastWorker(bcore)
    await worker.run_once()
    await worker.run_once()
    assert len(await marketing(bcore)) == 5
    conversation = await get_conversation(
        bcore,
        channel.workspace_id,
        (await bcore.store.conversations.find_one({"customer_id": customers[0].id}))["_id"],
    )
    reply = await send(bcore, conversation, OutboundContent(text="Your parcel left"), MARKETER)
    handled = await OutboxWorker(bcore).run_once()
    assert handled == 6  # the window and the reply, in one pass
    assert (await bcore.store.messages.find_one({"_id": reply.id}))["delivery"]["status"] == "sent"
    done = await finish(bcore, broadcast)
    assert done.stats.sent == 12


async def test_unreachable_and_failing_templates_are_skipped_with_reasons(
    bcore: Core, people: Callable[..., Any]
) -> None:
    customers = await people(3)
    body = {"text": {"en": "{{ customer.attributes.city }}"}}
    broadcast = await start(bcore, customers, message=body, channels=["api", "telegram"])
    await bcore.store.customers.update_one(
        {"_id": customers[0].id}, {"$set": {"attributes.city": "上海"}}
    )
    await bcore.store.identities.delete_many({"customer_id": customers[1].id})
    done = await finish(bcore, broadcast)
    assert done.stats.sent == 1
    assert done.stats.skipped == {"no_reachable_channel": 1, "template_error": 1}
    rows = await recipients(bcore).find({"status": "skipped"}).to_list()
    assert all(row["reason"] for row in rows)


async def test_stats_count_delivered_replies_within_72_hours_and_unsubscribes(
    bcore: Core, people: Callable[..., Any], channel: Channel, clock: ManualClock
) -> None:
    customers = await people(4)
    broadcast = await finish(bcore, await start(bcore, customers))
    clock.advance(3600)
    user = {"id": "c-00000", "name": "Person 0"}
    await ingest(bcore, channel, inbound(channel, user=_user(user), text="interested!"))
    await ingest(bcore, channel, inbound(channel, user=_user(user), text="again"))
    await record(
        bcore,
        build_event(
            bcore,
            channel.workspace_id,
            "consent.changed",
            customer_id=customers[1].id,
            data={"channel_type": "api", "state": "revoked"},
        ),
    )
    clock.advance(72 * 3600)
    await ingest(bcore, channel, inbound(channel, user=_user({"id": "c-00002"}), text="late"))
    await drain(bcore)
    got = await get_broadcast(bcore, broadcast.workspace_id, broadcast.id)
    assert (got.stats.delivered, got.stats.replied, got.stats.unsubscribed) == (4, 1, 1)
    await drain(bcore)
    again = await get_broadcast(bcore, broadcast.workspace_id, broadcast.id)
    assert again.stats == got.stats


def _user(fields: dict[str, Any]) -> InboundUser:
    return InboundUser.model_validate(fields)


async def test_a_customer_without_a_locale_is_written_to_in_the_language_they_last_wrote(
    bcore: Core, clock: ManualClock, channel: Channel, people: Callable[..., Any]
) -> None:
    """`kith.core.languages`: the profile's locale, else the customer's latest message."""
    quiet, writer, switched = await people(3)  # none has a locale; each wrote "hi"
    english = (await people(1, prefix="en", locale="en-GB"))[0]
    for who, said in (
        ("c-00001", "你好，我的订单到哪了？"),
        ("c-00002", "你好"),
        ("en-00000", "谢谢"),
    ):
        clock.advance(60)
        user = InboundUser(id=who, name="Person")
        await ingest(bcore, channel, inbound(channel, user=user, text=said))
    clock.advance(60)
    user = InboundUser(id="c-00002", name="Person")
    await ingest(bcore, channel, inbound(channel, user=user, text="English please"))
    await finish(bcore, await start(bcore, [quiet, writer, switched, english]))
    texts = {m["customer_id"]: m["text"] for m in await marketing(bcore)}
    assert texts == {
        quiet.id: "Hello Person 0",
        writer.id: "你好 Person 1",
        switched.id: "Hello Person 2",
        english.id: "Hello Person 0",  # the profile's locale comes first
    }
