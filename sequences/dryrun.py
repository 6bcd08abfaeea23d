"""A dry run: when each step would run for one customer, from now, written nowhere.

It follows the sequence as edited now, in the customer's zone, through the runner's rules:
waits end by `waits.wait_end`; a send asks the courtesy policy at its moment (held past quiet
hours, skipped without a reachable channel or past its `send_by`) and takes a place under the
daily cap (the customer's slots already taken that day count); a branch on `since` assumes
the customer has not replied, clicked or converted; a branch on a filter is decided on the
customer as they are now. A loop (it has a wait) is followed up to `MAX_PLANNED` steps.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.ids import derived_id
from kith.core.models import Customer
from kith.courtesy.policy import SLOTS, Go, Hold, decide
from kith.courtesy.settings import CourtesySettings, load_settings
from kith.courtesy.zones import local_day, zone_of
from kith.segments.filters import matches
from kith.segments.records import parse_filter
from kith.sequences.models import (
    BranchStep,
    EndStep,
    GoalStep,
    SendStep,
    Sequence,
    Step,
    WaitStep,
)
from kith.sequences.preview import Rendered, render_for
from kith.sequences.waits import wait_end

MAX_PLANNED = 100


class Planned(BaseModel):
    """One step of the walk. `reason` says in English what the fields after it say for a page
    to word: a skip's `skip_reason`, a hold's `held_for` and `held_until`, a branch's `branch`
    and `branch_why`."""

    step_id: str
    type: str
    at: datetime  # when the step runs (a send: when it would go out)
    outcome: str  # waits, sent, skipped, taken (a branch), ran, goal, end
    until: datetime | None = None  # a wait's end
    channel_type: str | None = None
    reason: str | None = None
    skip_reason: str | None = None
    held_for: str | None = None
    held_until: datetime | None = None
    branch: str | None = None  # then / else
    branch_why: str | None = None  # assumed_not_since (with `since`), filter_holds, filter_fails
    since: str | None = None
    sent: Rendered | None = None  # a send's text for this customer, or why it fails


class DryRun(BaseModel):
    customer_id: str
    timezone: str
    steps: list[Planned]
    truncated: bool = False


class _Plan:
    """The walk's state: the moment, sends counted per local day."""

    def __init__(
        self, core: Core, customer: Customer, doc: dict[str, Any], settings: CourtesySettings
    ) -> None:
        self.core = core
        self.customer = customer
        self.doc = doc  # as stored: what a segment filter reads
        self.settings = settings
        self.zone = zone_of(customer.timezone, None, settings.timezone)
        self.sent: dict[date, int] = {}

    async def used(self, day: date) -> int:
        if day not in self.sent:
            doc_id = derived_id("courtesy-day", self.customer.id, day.isoformat())
            doc = await self.core.store.collection(SLOTS).find_one({"_id": doc_id}, {"count": 1})
            self.sent[day] = int((doc or {}).get("count", 0))
        return self.sent[day]


async def dry_run(core: Core, sequence: Sequence, customer_id: str) -> DryRun:
    customer = await get_customer(core, sequence.workspace_id, customer_id)
    doc = await core.store.customers.find_one({"_id": customer.id}) or customer.to_doc()
    plan = _Plan(core, customer, doc, await load_settings(core, sequence.workspace_id))
    by_id = {step.id: step for step in sequence.steps}
    order = [step.id for step in sequence.steps]
    out = DryRun(customer_id=customer.id, timezone=plan.zone.key, steps=[])
    at = core.clock.now()
    step_id: str | None = order[0]
    while step_id is not None:
        if len(out.steps) >= MAX_PLANNED:
            out.truncated = True
            break
        step = by_id[step_id]
        following = order[order.index(step_id) + 1] if step_id != order[-1] else None
        planned, at, step_id = await _walk(plan, sequence, step, at, following)
        out.steps.append(planned)
    return out


async def _walk(
    plan: _Plan, sequence: Sequence, step: Step, at: datetime, following: str | None
) -> tuple[Planned, datetime, str | None]:
    """The step planned at `at`; the moment after it and the step that comes next."""
    if isinstance(step, WaitStep):
        until = wait_end(step, at, plan.zone)
        return (
            Planned(step_id=step.id, type=step.type, at=at, outcome="waits", until=until),
            until,
            following,
        )
    if isinstance(step, SendStep):
        planned = await _send(plan, sequence, step, at)
        return planned, planned.at, following
    if isinstance(step, BranchStep):
        planned = _branch(plan, step, at)
        target = step.then if planned.branch == "then" else (step.otherwise or following)
        return planned, at, target
    if isinstance(step, GoalStep | EndStep):
        outcome = "goal" if isinstance(step, GoalStep) else "end"
        return Planned(step_id=step.id, type=step.type, at=at, outcome=outcome), at, None
    return Planned(step_id=step.id, type=step.type, at=at, outcome="ran"), at, following


def _branch(plan: _Plan, step: BranchStep, at: datetime) -> Planned:
    taken = Planned(step_id=step.id, type=step.type, at=at, outcome="taken")
    if step.since is not None:
        taken.reason = f"else: assumed not {step.since.value} since enrolment"
        taken.branch, taken.branch_why, taken.since = "else", "assumed_not_since", step.since
        return taken
    assert step.filter is not None
    node = parse_filter(plan.core, step.filter)
    held = matches(node, plan.doc, at)
    taken.reason = "then: the filter holds now" if held else "else: the filter does not hold now"
    taken.branch = "then" if held else "else"
    taken.branch_why = "filter_holds" if held else "filter_fails"
    return taken


async def _send(plan: _Plan, sequence: Sequence, step: SendStep, at: datetime) -> Planned:
    channels = step.channels or sequence.channels
    send_by = at + step.send_by
    decision = await decide(plan.core, plan.customer, channels, at, send_by)
    base = Planned(step_id=step.id, type=step.type, at=at, outcome="skipped")
    base.sent = await render_for(plan.core, sequence, step.id, plan.customer)
    if isinstance(decision, Hold):
        base.held_for, base.held_until = decision.reason, decision.until
        base.reason = f"held for {decision.reason} until {decision.until.isoformat()}"
        base.at = at = decision.until
        decision = await decide(plan.core, plan.customer, channels, at, send_by)
    if not isinstance(decision, Go):
        base.reason = base.skip_reason = str(getattr(decision, "reason", "held"))
        return base
    day = local_day(at, plan.zone)
    cap = plan.settings.daily_cap
    if cap is not None and await plan.used(day) >= cap:
        base.reason = base.skip_reason = "frequency_cap"
        return base
    plan.sent[day] += 1
    base.outcome, base.channel_type = "sent", decision.route.channel_type
    return base
