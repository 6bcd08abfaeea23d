"""SLA clocks on stored tickets: started with the ticket, paused and resumed by its status,
recomputed by priority and team changes, met by replies on its conversation; the worker's
warnings and breaches on a controllable clock (once, within the bound, with two workers and
after a killed one), the breach actions, the API and the "% SLA met" report."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kith.core.clock import ManualClock, ScaledClock
from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.features import install
from kith.core.models import Author, AuthorKind, OutboundContent
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.tickets.actions import do_create_ticket, do_move_ticket, do_update_ticket
from kith.tickets.feature import feature
from kith.tickets.models import Priority, Status, Ticket, TicketIn, TicketPatch
from kith.tickets.sla_demo import seed_demo_sla
from kith.tickets.sla_models import Metric, PolicyIn, Targets
from kith.tickets.sla_store import save_policy
from kith.tickets.sla_worker import SlaWorker
from kith.tickets.store import get_ticket
from tests.support.cast import inbound
from tests.support.consumers import drain
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    cast,
    cheap_password_hashing,
)

MIN = 60.0
HOUR = 3600.0


@pytest.fixture(autouse=True)
async def with_tickets(core: Core) -> None:
    install(core, [feature(core)])
    await core.start()  # the tickets' indexes too


async def standard(core: Core, cast: Cast, **extra: Any) -> str:  # noqa: F811
    body = PolicyIn.model_validate(
        {
            "name": "Standard",
            "default": True,
            "targets": {
                "normal": Targets(first_reply=60, next_reply=120, resolution=8 * 60),
                "high": Targets(first_reply=30, resolution=4 * 60),
                "urgent": Targets(first_reply=15, resolution=60),
            },
            **extra,
        }
    )
    return (await save_policy(core, cast.workspace_id, body)).id


async def open_ticket(core: Core, cast: Cast, where: str = "shop") -> Ticket:  # noqa: F811
    body = TicketIn(subject="Broken", conversation_id=cast.conversations[where])
    return await do_create_ticket(core, cast.workspace_id, body)


async def events(core: Core, type: str) -> list[dict[str, Any]]:
    return await core.store.events.find({"type": type}).sort("created_at", 1).to_list(None)


def at(clock: ManualClock, seconds: float) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


async def test_status_and_priority_changes_pause_and_recompute_from_consumed_time(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    await standard(core, cast)
    ticket = await open_ticket(core, cast)
    assert ticket.sla is not None
    assert ticket.sla.resolution_due_at == at(clock, 8 * HOUR)
    assert ticket.sla_next_at == at(clock, HOUR)
    clock.advance(HOUR)
    paused = await do_move_ticket(core, cast.workspace_id, ticket.id, Status.pending)
    assert paused.sla is not None and paused.sla.paused
    assert (paused.sla.resolution_due_at, paused.sla_next_at) == (None, None)
    clock.advance(10 * HOUR)  # paused time: never counted
    patch = TicketPatch(priority=Priority.high)
    raised = await do_update_ticket(core, cast.workspace_id, ticket.id, patch)
    assert raised.sla is not None and raised.sla.paused
    clock.advance(HOUR)
    resumed = await do_move_ticket(core, cast.workspace_id, ticket.id, Status.open)
    assert resumed.sla is not None and not resumed.sla.paused
    # 4 h target at high, 1 h consumed before the pause: due 3 h after the resume.
    assert resumed.sla.resolution_due_at == at(clock, 15 * HOUR)
    # 30 min target, 1 h consumed: due half an hour of business time before the resume.
    assert resumed.sla.first_reply_due_at == at(clock, 11.5 * HOUR)


async def test_a_team_with_its_own_policy_takes_over_with_the_banked_time(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    await standard(core, cast)
    support = cast.users["support"].id
    vip = PolicyIn(name="VIP", team_id=support, targets={"normal": Targets(resolution=2 * 60)})
    await save_policy(core, cast.workspace_id, vip)
    ticket = await open_ticket(core, cast)
    clock.advance(HOUR)
    moved = await do_update_ticket(core, cast.workspace_id, ticket.id, TicketPatch(team_id=support))
    assert moved.sla is not None
    assert moved.sla.policy == {"id": moved.sla.policy_id, "name": "VIP"}
    assert moved.sla.resolution_due_at == at(clock, 2 * HOUR)
    assert moved.sla.first_reply_due_at is None  # VIP measures no replies


async def test_replies_on_the_linked_conversation_meet_first_and_next_reply(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    await standard(core, cast)
    ticket = await open_ticket(core, cast)
    conversation = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    clock.advance(20 * MIN)
    bot = Author(kind=AuthorKind.bot, name="bot")
    await send(core, conversation, OutboundContent(text="A bot says hi"), bot)
    await drain(core)
    still = await get_ticket(core, cast.workspace_id, ticket.id)
    assert still.sla is not None and still.sla.first_reply_due_at == at(clock, HOUR)
    alice = Author(kind=AuthorKind.agent, id=cast.users["alice"].id, name="Alice")
    await send(core, conversation, OutboundContent(text="Looking into it"), alice)
    await drain(core)
    replied = await get_ticket(core, cast.workspace_id, ticket.id)
    assert replied.sla is not None
    assert replied.sla.first_reply_due_at is None
    assert replied.sla.metrics[Metric.first_reply].achieved == 1
    clock.advance(HOUR)
    await ingest(core, cast.shop, inbound(cast.shop, "ada", "Any news?"))
    await drain(core)
    waiting = await get_ticket(core, cast.workspace_id, ticket.id)
    assert waiting.sla is not None
    assert waiting.sla.next_reply_due_at == at(clock, 20 * MIN + 3 * HOUR)
    assert waiting.sla_next_at == waiting.sla.next_reply_due_at


async def test_a_breach_is_recorded_once_within_a_minute_and_its_actions_run(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    support = cast.users["support"]
    bob = cast.users["bob"]
    await standard(
        core,
        cast,
        breach_actions=[
            {"type": "raise_priority", "metrics": ["first_reply"]},
            {"type": "reassign", "user_id": bob.id},
            {"type": "notify_team", "team_id": support.id},
        ],
    )
    ticket = await open_ticket(core, cast)
    worker = SlaWorker(core, "w1")
    clock.advance(HOUR - 1)
    assert await worker.run_once() == 0  # a second early: nothing
    clock.advance(1.5)
    assert await worker.run_once() == 1
    breaches = await events(core, "ticket.sla_breached")
    assert [(e["data"]["metric"], e["data"]["late_seconds"]) for e in breaches] == [
        ("first_reply", 0.5)
    ]
    clock.advance(30)
    assert await worker.run_once() == 0  # acted on: the ticket is no longer due
    await drain(core)
    after = await get_ticket(core, cast.workspace_id, ticket.id)
    assert (after.priority, after.assignee_id) == ("high", bob.id)
    assert after.sla is not None and after.sla.breached == ["first_reply"]
    # The raised priority's tighter resolution target (4 h) is due from the consumed time.
    assert after.sla.resolution_due_at == at(clock, 4 * HOUR)
    notes = await core.store.messages.find({"private": True}).to_list(None)
    assert [n["text"] for n in notes] == [
        f"@Support: SLA breached on ticket #{ticket.number}: first reply was due at "
        "2026-01-01 01:00 UTC."
    ]
    assert notes[0]["wording"] == {  # each agent's inbox words it in their language
        "key": "sla_breached",
        "values": {
            "team": "Support",
            "number": ticket.number,
            "due_at": "2026-01-01T01:00:00+00:00",
        },
        "terms": {"metric": "ticket_sla_first_reply"},
    }
    await drain(core)  # the updates' own events: no second breach, note or raise
    assert len(await events(core, "ticket.sla_breached")) == 1
    assert await core.store.messages.count_documents({"private": True}) == 1


async def test_a_warning_comes_before_the_breach_each_once(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    await standard(core, cast, warn_before_minutes=15)
    await open_ticket(core, cast)
    worker = SlaWorker(core, "w1")
    clock.advance(45 * MIN)
    assert await worker.run_once() == 1
    clock.advance(MIN)
    assert await worker.run_once() == 0
    warnings = await events(core, "ticket.sla_warning")
    assert [(w["data"]["metric"], w["data"]["due_at"]) for w in warnings] == [
        ("first_reply", at(clock, HOUR))
    ]
    clock.advance(14 * MIN)
    assert await worker.run_once() == 1
    assert len(await events(core, "ticket.sla_breached")) == 1
    assert len(await events(core, "ticket.sla_warning")) == 1


async def test_two_workers_record_each_breach_once(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    await standard(core, cast)
    made = [await open_ticket(core, cast, where) for where in ("shop", "help") * 15]
    clock.advance(HOUR)
    one, two = SlaWorker(core, "one", batch=7), SlaWorker(core, "two", batch=7)
    for _ in range(6):
        await asyncio.gather(one.run_once(), two.run_once())
    breaches = await events(core, "ticket.sla_breached")
    assert sorted(e["data"]["ticket_id"] for e in breaches) == sorted(t.id for t in made)


async def breaching_ticket(core: Core, cast: Cast, clock: ManualClock) -> None:  # noqa: F811
    """A ticket an hour past its first-reply target, due for the sweep."""
    await standard(core, cast)
    await open_ticket(core, cast)
    clock.advance(HOUR)


async def claim_and_die(core: Core) -> None:
    """A worker with a 30 s lease claims the due ticket and dies before acting."""
    claimed, _ = await SlaWorker(core, "dead", lease_seconds=30).claim()
    assert len(claimed) == 1


async def test_a_killed_workers_claim_is_taken_over_after_its_lease(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    await breaching_ticket(core, cast, clock)
    await claim_and_die(core)
    alive = SlaWorker(core, "alive")
    assert await alive.run_once() == 0
    clock.advance(31)
    assert await alive.run_once() == 1
    late = (await events(core, "ticket.sla_breached"))[0]["data"]["late_seconds"]
    assert late == 31  # within the bound: the lease is shorter than a minute


async def test_a_claims_lease_lasts_real_seconds_on_the_demos_clock(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    """On `kith demo`'s clock (an hour a second) the lease still lasts its real seconds."""
    await breaching_ticket(core, cast, clock)
    passed = [0.0]
    core.clock = ScaledClock(3600, base=clock, monotonic=lambda: passed[0])
    await claim_and_die(core)
    passed[0] = 2.0  # two hours on the demo's clock, two seconds of real time
    alive = SlaWorker(core, "alive")
    assert await alive.run_once() == 0
    clock.advance(31)  # the lease's real half minute is over
    assert await alive.run_once() == 1


async def test_a_ticket_change_after_a_breach_keeps_it(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    """A ticket read before the worker marked its breach, changed after: the change is
    applied to the marked clocks, never over them."""
    await standard(core, cast)
    ticket = await open_ticket(core, cast)
    clock.advance(2 * HOUR)
    await SlaWorker(core, "w").run_once()
    stale = ticket  # read before the breach
    moved = await do_update_ticket(
        core, cast.workspace_id, ticket.id, TicketPatch(status=Status.on_hold), ticket=stale
    )
    assert moved.sla is not None and moved.sla.breached == ["first_reply"]
    assert moved.sla.metrics[Metric.first_reply].missed == 1


async def test_calendars_policies_and_the_ticket_sla_over_the_api(
    core: Core,
    cast: Cast,  # noqa: F811
    http: httpx.AsyncClient,
    clock: ManualClock,
) -> None:
    bad = await http.post("/api/v1/sla/calendars", json={"name": "x", "zone": "Mars/Base"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "zone")
    made = await http.post(
        "/api/v1/sla/calendars",
        json={
            "name": "Shanghai office",
            "zone": "Asia/Shanghai",
            "hours": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "holidays": ["2026-01-01"],
        },
    )
    assert made.status_code == 201, made.text
    calendar = made.json()
    unknown = await http.post(
        "/api/v1/sla/policies",
        json={"name": "P", "calendar_id": "nope", "targets": {"normal": {"resolution": 60}}},
    )
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "calendar_id")
    operator = await http.post(
        "/api/v1/sla/policies", json={"name": "P", "targets": {"$where": {"resolution": 1}}}
    )
    assert operator.status_code == 422
    policy = await http.post(
        "/api/v1/sla/policies",
        json={
            "name": "Office",
            "default": True,
            "calendar_id": calendar["id"],
            "targets": {"normal": {"first_reply": 120, "resolution": 600}},
        },
    )
    assert policy.status_code == 201, policy.text
    in_use = await http.delete(f"/api/v1/sla/calendars/{calendar['id']}")
    assert in_use.status_code == 409
    # Thursday 1 Jan 2026 08:00 in Shanghai (00:00 UTC) is a holiday: the office hours start
    # Friday 09:00 (01:00 UTC); 10 h of resolution are all of Friday and Monday 09:00–10:00.
    ticket = await http.post(
        "/api/v1/tickets", json={"subject": "Hi", "conversation_id": cast.conversations["help"]}
    )
    assert ticket.status_code == 201, ticket.text
    got = (await http.get(f"/api/v1/tickets/{ticket.json()['id']}")).json()
    sla = got["sla"]
    assert sla["policy"] == {"id": policy.json()["id"], "name": "Office"}
    assert sla["first_reply_due_at"].startswith("2026-01-02T03:00:00")
    assert sla["resolution_due_at"].startswith("2026-01-05T02:00:00")
    assert (sla["paused"], sla["breached"]) == (False, [])


async def test_the_demo_policy_counts_shanghai_office_hours(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    """1 January (a Thursday, 08:00 in Shanghai) is a holiday: the four office hours owed for a
    first reply are Friday 09:00–12:00 and 13:00–14:00, lunch left out."""
    await seed_demo_sla(core, cast.workspace_id)
    ticket = await open_ticket(core, cast)
    assert ticket.sla is not None
    assert ticket.sla.first_reply_due_at == datetime(2026, 1, 2, 6, tzinfo=UTC)
    # Warned one office hour before: at 12:00, lunch being no office hour.
    assert ticket.sla_next_at == datetime(2026, 1, 2, 4, tzinfo=UTC)


async def test_the_report_gives_the_share_of_targets_met_per_policy_team_and_agent(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    http: httpx.AsyncClient,
) -> None:
    policy_id = await standard(core, cast)
    alice = cast.users["alice"]
    answered = await open_ticket(core, cast, "shop")
    patch = TicketPatch(assignee_id=alice.id)
    await do_update_ticket(core, cast.workspace_id, answered.id, patch)
    await open_ticket(core, cast, "help")  # nobody answers it
    clock.advance(10 * MIN)
    conversation = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    author = Author(kind=AuthorKind.agent, id=alice.id, name="Alice")
    await send(core, conversation, OutboundContent(text="On it"), author)
    await drain(core)
    clock.advance(HOUR)
    await SlaWorker(core, "w").run_once()
    period = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
    report = (await http.get("/api/v1/sla/report", params=period)).json()
    (row,) = report["by_policy"]
    assert (row["id"], row["tickets"]) == (policy_id, 2)
    assert row["metrics"]["first_reply"] == {"met": 1, "missed": 1, "percent": 50.0}
    assert row["metrics"]["resolution"] == {"met": 0, "missed": 0, "percent": None}
    agents = {r["id"]: r["metrics"]["first_reply"]["percent"] for r in report["by_agent"]}
    assert agents == {alice.id: 100.0, None: 0.0}
    assert report["from"].startswith("2026-01-01T00:00:00")
    naive = await http.get("/api/v1/sla/report", params={**period, "from": "2026-01-01T00:00"})
    assert (naive.status_code, naive.json()["error"]["field"]) == (422, "from")
