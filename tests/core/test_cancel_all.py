"""`kith.core.pollers.cancel_all`: a task that lost its cancellation (Python 3.11's
`asyncio.wait_for` can swallow one, gh-86296) is cancelled again until it ends, so a
shutdown never hangs on a poll that polls on; a task ending by itself is waited for."""

from __future__ import annotations

import asyncio

from kith.core.pollers import cancel_all


async def test_a_task_that_swallowed_its_cancellation_is_cancelled_again() -> None:
    swallowed = asyncio.Event()

    async def polls_on() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.set()  # as a lost cancellation: the loop goes on
        await asyncio.Event().wait()

    async def ends_by_itself() -> str:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # its cleanup
        return "never"

    stuck, clean = asyncio.create_task(polls_on()), asyncio.create_task(ends_by_itself())
    await asyncio.sleep(0)  # both are waiting
    async with asyncio.timeout(10):
        await cancel_all([stuck, clean], grace=0.05)
    assert swallowed.is_set()
    assert stuck.cancelled() and clean.cancelled()


async def test_nothing_to_cancel_returns_at_once() -> None:
    async with asyncio.timeout(1):
        await cancel_all([])
