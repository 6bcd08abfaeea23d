"""A broadcast whose channel types have no enabled channel in the workspace reaches done:
each recipient is skipped `no_reachable_channel`, once, however many workers claim
(QA pass 11, M1: it stayed `sending` forever, waiting for outbox room on no channel)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kith.broadcasts.audience import recipients
from kith.broadcasts.models import Status
from kith.broadcasts.worker import BroadcastWorker
from kith.core.channel_records import update_channel
from kith.core.context import Core
from kith.core.models import Channel
from tests.broadcasts.test_sending import finish, marketing, start


async def test_a_channel_type_with_no_channel_skips_everyone_and_finishes(
    bcore: Core, people: Callable[..., Any]
) -> None:
    customers = await people(3)  # reachable on api, but the broadcast asks for email only
    done = await finish(bcore, await start(bcore, customers, channels=["email"]))
    assert done.status == Status.done
    assert (done.stats.targeted, done.stats.sent) == (3, 0)
    assert done.stats.skipped == {"no_reachable_channel": 3}
    assert await marketing(bcore) == []


async def test_several_workers_skip_each_recipient_once(
    bcore: Core, people: Callable[..., Any]
) -> None:
    bcore.settings.broadcast_batch = 3
    customers = await people(8)
    broadcast = await start(bcore, customers, channels=["email", "telegram"])
    workers = [BroadcastWorker(bcore, owner=f"w{i}") for i in range(3)]
    done = await finish(bcore, broadcast, *workers)
    assert done.status == Status.done
    assert done.stats.skipped == {"no_reachable_channel": 8}
    rows = await recipients(bcore).find({"broadcast_id": broadcast.id}).to_list(None)
    assert sorted(r["reason"] for r in rows) == ["no_reachable_channel"] * 8


async def test_a_channel_disabled_mid_send_skips_the_rest(
    bcore: Core, people: Callable[..., Any], channel: Channel
) -> None:
    bcore.settings.broadcast_batch = 2
    customers = await people(5)
    broadcast = await start(bcore, customers)
    assert await BroadcastWorker(bcore).run_once() == 2
    await update_channel(bcore, channel.workspace_id, channel.id, enabled=False)
    done = await finish(bcore, broadcast)
    assert done.status == Status.done
    assert (done.stats.sent, done.stats.skipped) == (2, {"no_reachable_channel": 3})


async def test_a_channel_deleted_mid_send_skips_the_rest(
    bcore: Core, people: Callable[..., Any], channel: Channel
) -> None:
    bcore.settings.broadcast_batch = 2
    customers = await people(5)
    broadcast = await start(bcore, customers)
    assert await BroadcastWorker(bcore).run_once() == 2
    await bcore.store.channels.delete_one({"_id": channel.id})
    done = await finish(bcore, broadcast)
    assert done.status == Status.done
    assert done.stats.skipped == {"no_reachable_channel": 3}
