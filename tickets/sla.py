"""The SLA clocks of a ticket: pure functions from (state, what happened, now) to the new state.

Every change follows one shape: bank what each running clock consumed up to now (in the
calendar it ran in), change what happened (paused, a metric met or started, new targets, a new
calendar), then start the active clocks again from now and derive their due and warning
moments. Because consumed time is banked before anything changes, a pause, a policy change or
a priority change in any order neither loses paused time nor counts it twice (GLPI recomputed
due dates from the creation date and lost it). No I/O: the ticket actions and the SLA worker
store what these return in one conditional update with the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kith.core.clock import as_stored
from kith.tickets.calendars import BusinessCalendar
from kith.tickets.sla_models import DONE, PAUSING, PRIORITIES, Metric, SlaPolicy, TicketSla

REPLIES = (Metric.first_reply, Metric.next_reply)


@dataclass(frozen=True)
class Terms:
    """What a ticket's clocks are measured against: its policy (None: clocks run, nothing is
    due), that policy's calendar and the ticket's priority."""

    policy: SlaPolicy | None
    calendar: BusinessCalendar
    priority: str

    def target(self, metric: Metric) -> int | None:
        if self.policy is None:
            return None
        targets = self.policy.targets.get(self.priority)  # type: ignore[call-overload]
        minutes = targets.minutes(metric) if targets is not None else None
        return None if minutes is None else minutes * 60


@dataclass(frozen=True)
class Alert:
    """A warning or a breach the worker records once per (ticket, metric, due moment)."""

    kind: str  # "warning" | "breached"
    metric: Metric
    due_at: datetime


def open_sla(terms: Terms, status: str, now: datetime) -> TicketSla:
    """A new ticket: first reply and resolution start counting (paused if it starts paused)."""
    sla = TicketSla(paused=status in PAUSING)
    for metric in (Metric.first_reply, Metric.resolution):
        sla.clock(metric).active = status not in DONE
        sla.clock(metric).cycle = 1
    sla.clock(Metric.next_reply)
    return _restart(sla, terms, now)


def on_status(sla: TicketSla, terms: Terms, old: str, new: str, now: datetime) -> TicketSla:
    """Pending and on hold pause every clock; solving meets the resolution and stops the reply
    clocks; reopening a solved ticket resumes the resolution clock where it stopped."""
    sla = _bank(sla, terms.calendar, now)
    sla.paused = new in PAUSING
    if new in DONE and old not in DONE:
        _meet(sla, Metric.resolution, now)
        for metric in REPLIES:
            sla.clock(metric).active = False
    elif old in DONE and new not in DONE:
        resolution = sla.clock(Metric.resolution)
        resolution.active, resolution.met_at = True, None
    return _restart(sla, terms, now)


def retarget(sla: TicketSla, ran_in: BusinessCalendar, terms: Terms, now: datetime) -> TicketSla:
    """New terms (another policy, calendar or priority): what ran so far is banked in the
    calendar it ran in, and due moments are derived again from the banked time."""
    return _restart(_bank(sla, ran_in, now), terms, now)


def on_agent_reply(sla: TicketSla, terms: Terms, now: datetime) -> TicketSla:
    """An agent answered: the first reply (or the next one) is met."""
    sla = _bank(sla, terms.calendar, now)
    for metric in REPLIES:
        _meet(sla, metric, now)
    return _restart(sla, terms, now)


def on_customer_message(sla: TicketSla, terms: Terms, now: datetime) -> TicketSla:
    """The customer wrote after an agent's reply: the next reply's clock starts a new cycle
    (while the first reply is still owed, or a next reply already is, nothing changes)."""
    first, following = sla.clock(Metric.first_reply), sla.clock(Metric.next_reply)
    if first.active or following.active or first.met_at is None:
        return sla
    if not sla.clock(Metric.resolution).active:  # solved: reopening is the ticket's business
        return sla
    sla = _bank(sla, terms.calendar, now)
    following = sla.clock(Metric.next_reply)
    following.active, following.cycle = True, following.cycle + 1
    following.consumed, following.met_at = 0.0, None
    following.warned = following.breached = False
    return _restart(sla, terms, now)


def fire(sla: TicketSla, now: datetime) -> tuple[TicketSla, list[Alert]]:
    """The warnings and breaches due by `now`, each once per cycle, marked on the state."""
    sla = sla.model_copy(deep=True)
    alerts: list[Alert] = []
    for metric, clock in sla.metrics.items():
        if not clock.active or clock.running_since is None or clock.due_at is None:
            continue
        if not clock.breached and clock.due_at <= now:
            clock.breached = clock.warned = True
            clock.missed += 1
            clock.warn_at = None
            if metric not in sla.breached:
                sla.breached.append(metric)
            alerts.append(Alert("breached", metric, clock.due_at))
        elif not clock.warned and clock.warn_at is not None and clock.warn_at <= now:
            clock.warned, clock.warn_at = True, None
            alerts.append(Alert("warning", metric, clock.due_at))
    if alerts:
        sla.rev += 1
    return sla, alerts


def next_at(sla: TicketSla) -> datetime | None:
    """The next warning or breach moment of any running clock: the ticket's `sla_next_at`."""
    moments = []
    for clock in sla.metrics.values():
        if not clock.active or clock.running_since is None or clock.breached:
            continue
        if clock.warn_at is not None and not clock.warned:
            moments.append(clock.warn_at)
        if clock.due_at is not None:
            moments.append(clock.due_at)
    return min(moments, default=None)


def raised(priority: str, to: str | None) -> str:
    """The priority a `raise_priority` action leaves (never lower than it was)."""
    rank = PRIORITIES.index(priority) if priority in PRIORITIES else 0
    wanted = PRIORITIES.index(to) if to is not None else min(rank + 1, len(PRIORITIES) - 1)
    return PRIORITIES[max(rank, wanted)]


def consumed(sla: TicketSla, metric: Metric, calendar: BusinessCalendar, now: datetime) -> float:
    """Business seconds a metric has consumed in its current cycle, up to now."""
    clock = sla.clock(metric)
    running = (
        calendar.elapsed(clock.running_since, now).total_seconds() if clock.running_since else 0.0
    )
    return clock.consumed + running


def _bank(sla: TicketSla, calendar: BusinessCalendar, now: datetime) -> TicketSla:
    sla = sla.model_copy(deep=True)
    for clock in sla.metrics.values():
        if clock.running_since is not None:
            clock.consumed += calendar.elapsed(clock.running_since, now).total_seconds()
            clock.running_since = None
    return sla


def _meet(sla: TicketSla, metric: Metric, now: datetime) -> None:
    clock = sla.clock(metric)
    if not clock.active:
        return
    clock.active, clock.met_at = False, now
    if not clock.breached:
        clock.achieved += 1


def _restart(sla: TicketSla, terms: Terms, now: datetime) -> TicketSla:
    """Run the active clocks from `now` under `terms` and derive due and warning moments."""
    policy = terms.policy
    sla.policy_id = policy.id if policy else None
    sla.policy_name = policy.name if policy else None
    sla.calendar_id = policy.calendar_id if policy else None
    sla.warn_before = policy.warn_before_minutes * 60 if policy else 0
    for metric, clock in sla.metrics.items():
        clock.target = terms.target(metric) if clock.active else clock.target
        clock.running_since = now if clock.active and not sla.paused else None
        clock.due_at = clock.warn_at = None
        if clock.running_since is None or clock.target is None:
            continue
        left = clock.target - clock.consumed
        clock.due_at = as_stored(_due_at(terms.calendar, now, left))
        if sla.warn_before and not clock.warned and not clock.breached:
            clock.warn_at = as_stored(_warn_at(terms.calendar, now, left - sla.warn_before))
    sla.rev += 1
    return sla


def _due_at(calendar: BusinessCalendar, now: datetime, left: float) -> datetime:
    """`left` business seconds from now; a clock already past its target was due that far
    back (a restart must not forgive the overrun: a ticket nine days late stays so when its
    policy is saved or its priority raised)."""
    if left >= 0:
        return calendar.add(now, timedelta(seconds=left))
    return calendar.subtract(now, timedelta(seconds=-left))


def _warn_at(calendar: BusinessCalendar, now: datetime, early: float) -> datetime:
    """`warn_before` of business time before the due moment, which is `early` business
    seconds from now; when less than that is left, as soon as business time runs again (a
    ticket opened on Saturday, its first reply due half an hour into Monday, is warned at
    Monday's opening, not at once on Saturday: its clock is not running then)."""
    if early > 0:
        return calendar.add(now, timedelta(seconds=early))
    return calendar.opening(now)
