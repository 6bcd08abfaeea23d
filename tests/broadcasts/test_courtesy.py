"""Broadcasts under the courtesy policy: consent revoked, the daily cap across broadcasts,
quiet hours held then sent, and `send_by` dropping a late send: every skip has its reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from kith.broadcasts.actions import get_broadcast
from kith.broadcasts.audience import recipients
from kith.broadcasts.models import Status
from kith.broadcasts.worker import BroadcastWorker
from kith.consent.actions import do_change_consent
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import ConsentState
from kith.courtesy.settings import CourtesySettings, save_settings
from tests.broadcasts.test_sending import finish, marketing, start


async def test_a_revoked_consent_is_skipped_with_its_reason(
    bcore: Core, people: Callable[..., Any]
) -> None:
    ada, bo = await people(2)
    await do_change_consent(bcore, bo, "api", ConsentState.revoked, "keyword")
    done = await finish(bcore, await start(bcore, [ada, bo]))
    assert (done.stats.sent, done.stats.skipped) == (1, {"no_consent": 1})
    row = await recipients(bcore).find_one({"customer_id": bo.id})
    assert (row["status"], row["reason"]) == ("skipped", "no_consent")


async def test_the_daily_cap_counts_across_broadcasts(
    bcore: Core, people: Callable[..., Any], workspace_id: str
) -> None:
    await save_settings(bcore, workspace_id, CourtesySettings(daily_cap=1))
    customers = await people(3)
    first = await finish(bcore, await start(bcore, customers))
    second = await finish(bcore, await start(bcore, customers[:2]))
    assert first.stats.sent == 3
    assert (second.stats.sent, second.stats.skipped) == (0, {"frequency_cap": 2})
    assert len(await marketing(bcore)) == 3


async def test_quiet_hours_hold_then_send_when_the_window_opens(
    bcore: Core, people: Callable[..., Any], clock: ManualClock
) -> None:
    clock.advance(10 * 3600)  # 22:00 UTC: quiet until 09:00
    customers = await people(2)
    broadcast = await start(bcore, customers)
    worker = BroadcastWorker(bcore)
    await worker.run_once()
    await worker.run_once()
    held = await get_broadcast(bcore, broadcast.workspace_id, broadcast.id)
    assert (held.status, held.stats.held, held.stats.sent) == (Status.sending, 2, 0)
    rows = await recipients(bcore).find({"broadcast_id": broadcast.id}).to_list()
    assert {(r["status"], r["reason"]) for r in rows} == {("held", "quiet_hours")}
    assert min(r["due_at"] for r in rows) == clock.now().replace(hour=9) + timedelta(days=1)
    clock.advance(11 * 3600)  # 09:00
    done = await finish(bcore, broadcast, worker)
    assert (done.stats.sent, done.stats.held, done.stats.skipped) == (2, 0, {})


async def test_a_send_later_than_send_by_is_dropped(
    bcore: Core, people: Callable[..., Any], clock: ManualClock
) -> None:
    customers = await people(2)
    send_by = clock.now() + timedelta(hours=1)
    broadcast = await start(bcore, customers, send_by=send_by.isoformat())
    clock.advance(2 * 3600)  # every worker was down past the deadline
    done = await finish(bcore, broadcast)
    assert (done.stats.sent, done.stats.skipped) == (0, {"send_by_passed": 2})
    assert await marketing(bcore) == []
