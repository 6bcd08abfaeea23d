"""A worker's idle wait: woken by any of its events, else after the interval, leaving nothing
behind."""

from __future__ import annotations

import asyncio

from kith.core.waiting import wait_any


async def test_any_event_wakes_it_and_no_waiter_is_left_behind() -> None:
    stop, work = asyncio.Event(), asyncio.Event()
    waiting = asyncio.create_task(wait_any((stop, work), at_most=3600))
    await asyncio.sleep(0)
    assert not waiting.done()

    work.set()
    await asyncio.wait_for(waiting, timeout=5)  # a guard against hanging, not a timing

    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_with_nothing_set_it_returns_after_the_interval() -> None:
    await asyncio.wait_for(wait_any((asyncio.Event(),), at_most=0), timeout=5)
    assert asyncio.all_tasks() == {asyncio.current_task()}
