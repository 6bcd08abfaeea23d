"""An SLA warning comes `warn_before` of *business* time before the due moment: a ticket
opened on a weekend whose target is shorter than the warning is warned when business time
runs again, not at once (QA5 minor 2: an urgent ticket opened on Saturday, its first reply due
half an hour into Monday, was warned 28 hours early). The warning names its metric."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.tickets.actions import do_create_ticket
from kith.tickets.feature import feature
from kith.tickets.models import Priority, TicketIn
from kith.tickets.sla_demo import seed_demo_sla
from kith.tickets.sla_models import Metric
from kith.tickets.sla_store import list_calendars
from kith.tickets.sla_worker import SlaWorker
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    cast,
    cheap_password_hashing,
)

# Saturday 5 December 2026, 10:43 in Shanghai; the office opens Monday 09:00 (01:00Z).
SATURDAY = datetime(2026, 12, 5, 2, 43, tzinfo=UTC)
MONDAY_OPENS = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
MIN = 60.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=SATURDAY)


@pytest.fixture(autouse=True)
async def with_tickets(core: Core) -> None:
    install(core, [feature(core)])
    await core.start()


async def test_a_weekend_ticket_is_warned_when_the_office_opens_naming_the_metric(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    await seed_demo_sla(core, cast.workspace_id)  # office hours, warn an hour before
    body = TicketIn(
        subject="Third complaint",
        conversation_id=cast.conversations["shop"],
        priority=Priority.urgent,
    )
    ticket = await do_create_ticket(core, cast.workspace_id, body)
    assert ticket.priority == Priority.urgent and ticket.sla is not None
    first = ticket.sla.metrics[Metric.first_reply]
    # 30 office minutes for the first reply: less than the hour's warning is left at once.
    assert (first.due_at, first.warn_at) == (MONDAY_OPENS.replace(minute=30), MONDAY_OPENS)
    worker = SlaWorker(core, "w1")
    clock.advance((10 * 60 + 19) * MIN)  # Saturday 21:02 in Shanghai: nothing yet
    assert await worker.run_once() == 0
    assert await core.store.events.count_documents({"type": "ticket.sla_warning"}) == 0
    clock.advance((MONDAY_OPENS - clock.now()).total_seconds())
    assert await worker.run_once() == 1
    [warning] = await core.store.events.find({"type": "ticket.sla_warning"}).to_list(None)
    assert warning["data"]["metric"] == "first_reply"
    assert warning["data"]["late_seconds"] == -30 * MIN  # half an office hour before the due time


async def test_a_longer_target_is_warned_an_office_hour_before_it_is_due(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    await seed_demo_sla(core, cast.workspace_id)
    body = TicketIn(
        subject="Late", conversation_id=cast.conversations["shop"], priority=Priority.high
    )
    ticket = await do_create_ticket(core, cast.workspace_id, body)
    assert ticket.sla is not None
    resolution = ticket.sla.metrics[Metric.resolution]  # 8 office hours: Monday 09:00–18:00
    assert resolution.due_at == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    assert resolution.warn_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


async def test_the_demos_office_calendar_names_every_holiday(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    """Settings → Business hours shows the demo's holidays by name, not as bare dates."""
    await seed_demo_sla(core, cast.workspace_id)
    [office] = await list_calendars(core, cast.workspace_id)
    named = office.holiday_names
    assert set(named) == {d.isoformat() for d in office.holidays}
    assert named["2026-02-17"] == "Spring Festival · 春节"
    assert named["2026-10-01"] == "National Day · 国庆节"
