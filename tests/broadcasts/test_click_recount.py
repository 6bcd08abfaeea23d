"""A click is not lost when its process dies between the recipient's mark and the broadcast's
counter (both lanes): the recount raises `clicked` to the settled marks, and never counts a
click twice, not even one whose counter lands while it runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.broadcasts import stats
from kith.broadcasts.audience import recipient_id, recipients
from kith.broadcasts.models import Broadcast
from kith.broadcasts.worker import BroadcastWorker
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Customer
from tests.broadcasts.test_sending import finish, start
from tests.broadcasts.test_tracked_links import LINK, message_of, path_of, sent_with_links
from tests.support.faults import failing, racing

SETTLED = stats.SETTLED.total_seconds()


async def clicked(core: Core, broadcast: Broadcast) -> int:
    doc = await core.store.collection("broadcasts").find_one({"_id": broadcast.id})
    assert doc is not None
    return int(doc["stats"]["clicked"])


async def link_of(core: Core, broadcast: Broadcast, customer: Customer) -> str:
    [link] = LINK.findall((await message_of(core, broadcast, customer))["text"])
    return path_of(link)


async def click_dying_before_the_counter(core: Core, client: httpx.AsyncClient, path: str) -> None:
    """The recipient's row is marked; the process dies before the counter's write."""
    with failing(core.store.collection("broadcasts"), "update_one"):
        with pytest.raises(ConnectionError):
            await client.get(path)


async def test_a_click_whose_counter_was_lost_is_counted_by_the_recount(
    bcore: Core, clock: ManualClock, people: Callable[..., Any], client: httpx.AsyncClient
) -> None:
    ada, bo = await people(2)
    broadcast = await sent_with_links(bcore, [ada, bo])
    await click_dying_before_the_counter(bcore, client, await link_of(bcore, broadcast, ada))
    row = await recipients(bcore).find_one({"_id": recipient_id(broadcast.id, ada.id)})
    assert row is not None and row["clicked_at"] is not None
    assert await clicked(bcore, broadcast) == 0

    # Ada clicks again: her row is marked already, so her click stays uncounted by the link.
    assert (await client.get(await link_of(bcore, broadcast, ada))).status_code == 302
    assert await clicked(bcore, broadcast) == 0
    await stats.recount_clicks(bcore, broadcast.id)  # too soon to tell lost from on its way
    assert await clicked(bcore, broadcast) == 0

    clock.advance(SETTLED + 1)
    await stats.recount_clicks(bcore, broadcast.id)
    assert await clicked(bcore, broadcast) == 1
    await stats.recount_clicks(bcore, broadcast.id)  # again: nothing counted twice
    assert (await client.get(await link_of(bcore, broadcast, bo))).status_code == 302
    assert await clicked(bcore, broadcast) == 2
    clock.advance(SETTLED + 1)
    await stats.recount_clicks(bcore, broadcast.id)
    assert await clicked(bcore, broadcast) == 2


async def test_a_counter_landing_during_the_recount_is_counted_once(
    bcore: Core, clock: ManualClock, people: Callable[..., Any], client: httpx.AsyncClient
) -> None:
    (ada,) = await people(1)
    broadcast = await sent_with_links(bcore, [ada])

    async def recount() -> None:
        await stats.recount_clicks(bcore, broadcast.id)

    # Ada's row is marked; a recount runs before her counter's write lands.
    with racing(bcore.store.collection("broadcasts"), "update_one", recount):
        assert (await client.get(await link_of(bcore, broadcast, ada))).status_code == 302
    assert await clicked(bcore, broadcast) == 1
    clock.advance(SETTLED + 1)
    await stats.recount_clicks(bcore, broadcast.id)
    assert await clicked(bcore, broadcast) == 1


async def test_a_click_lost_while_the_broadcast_sends_is_counted_when_it_ends(
    bcore: Core, clock: ManualClock, people: Callable[..., Any], client: httpx.AsyncClient
) -> None:
    ada, bo = await people(2)
    bcore.settings.broadcast_batch = 1
    broadcast = await start(bcore, [ada, bo], message={"text": {"en": "See https://shop.test/"}})
    await finish_first_recipient(bcore, broadcast)
    [sent] = await recipients(bcore).find({"status": "sent"}).to_list()
    first = ada if sent["customer_id"] == ada.id else bo
    await click_dying_before_the_counter(bcore, client, await link_of(bcore, broadcast, first))
    clock.advance(SETTLED + 1)
    done = await finish(bcore, broadcast)
    assert (done.stats.sent, done.stats.clicked) == (2, 1)


async def finish_first_recipient(core: Core, broadcast: Broadcast) -> None:
    """Run the worker until one recipient's message is sent (the other one's still waits)."""
    worker = BroadcastWorker(core)
    for _ in range(50):
        await worker.run_once()
        if await recipients(core).count_documents({"status": "sent"}):
            return
    raise AssertionError(f"no recipient of {broadcast.id} was sent to")
