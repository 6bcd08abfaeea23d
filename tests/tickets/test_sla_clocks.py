"""SLA clocks as pure state: pauses, policy and priority changes in any order, reply cycles,
warnings and breaches (no database: `kith.tickets.sla` is what the actions and worker store)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from kith.tickets.calendars import BusinessCalendar
from kith.tickets.sla import (
    Terms,
    fire,
    next_at,
    on_agent_reply,
    on_customer_message,
    on_status,
    open_sla,
    raised,
    retarget,
)
from kith.tickets.sla_models import AROUND_THE_CLOCK, Metric, SlaPolicy, Targets

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday, 09:00 UTC
H = timedelta(hours=1)
OFFICE = BusinessCalendar("UTC", dict.fromkeys(range(5), ((time(9), time(17)),)))


def policy(name: str, *, warn: int = 0, **targets: Targets) -> SlaPolicy:
    return SlaPolicy.model_validate(
        {
            "id": name,
            "workspace_id": "w",
            "name": name,
            "targets": targets,
            "warn_before_minutes": warn,
            "created_at": T0,
            "updated_at": T0,
        }
    )


STANDARD = policy(
    "standard",
    normal=Targets(first_reply=60, resolution=8 * 60),
    high=Targets(first_reply=30, resolution=4 * 60),
)
STRICT = policy("strict", high=Targets(resolution=2 * 60))


def terms(p: SlaPolicy | None = STANDARD, priority: str = "normal") -> Terms:
    return Terms(p, AROUND_THE_CLOCK, priority)


def test_a_new_ticket_owes_a_first_reply_and_a_resolution() -> None:
    sla = open_sla(terms(), "new", T0)
    assert sla.due(Metric.first_reply) == T0 + H
    assert sla.due(Metric.resolution) == T0 + 8 * H
    assert sla.due(Metric.next_reply) is None
    assert next_at(sla) == T0 + H
    assert sla.paused is False


def test_pending_pauses_and_open_resumes_without_losing_paused_time() -> None:
    sla = open_sla(terms(), "new", T0)
    sla = on_status(sla, terms(), "new", "pending", T0 + H)
    assert sla.paused and sla.due(Metric.resolution) is None and next_at(sla) is None
    sla = on_status(sla, terms(), "pending", "open", T0 + 25 * H)
    # One hour ran before the pause: seven are left from the resume.
    assert sla.due(Metric.resolution) == T0 + 32 * H


def test_priority_and_policy_changes_while_paused_keep_the_banked_time() -> None:
    """The GLPI bug: a change during a pause recomputed due dates from creation."""
    sla = open_sla(terms(), "open", T0)
    sla = on_status(sla, terms(), "open", "on_hold", T0 + H)  # 1 h consumed
    sla = retarget(sla, AROUND_THE_CLOCK, terms(priority="high"), T0 + 3 * H)
    assert sla.paused and sla.due(Metric.resolution) is None
    sla = on_status(sla, terms(priority="high"), "on_hold", "open", T0 + 5 * H)
    assert sla.due(Metric.resolution) == T0 + 8 * H  # 4 h target, 1 h consumed, from 5 h
    # Another policy one hour later: 2 h consumed of its 2 h target, due at once.
    sla = retarget(sla, AROUND_THE_CLOCK, terms(STRICT, "high"), T0 + 6 * H)
    assert sla.due(Metric.resolution) == T0 + 6 * H
    assert sla.policy == {"id": "strict", "name": "strict"}
    # Back to the standard policy: nothing was lost or counted twice in the round trip.
    sla = retarget(sla, AROUND_THE_CLOCK, terms(priority="high"), T0 + 7 * H)
    assert sla.due(Metric.resolution) == T0 + 8 * H  # 3 h consumed of 4


def test_a_change_of_calendar_banks_in_the_calendar_that_ran() -> None:
    office = Terms(STANDARD, OFFICE, "normal")
    sla = open_sla(office, "open", T0 + 7 * H)  # Monday 16:00: one office hour left today
    # Tuesday 12:00 the policy moves to 24/7: 1 h (Mon) + 3 h (Tue) consumed, 4 h left.
    later = T0 + 27 * H
    sla = retarget(sla, OFFICE, terms(), later)
    assert sla.due(Metric.resolution) == later + 4 * H


def test_business_hours_and_a_pause_over_the_weekend() -> None:
    office = Terms(STANDARD, OFFICE, "normal")
    friday_3pm = T0 + 4 * 24 * H + 6 * H
    sla = open_sla(office, "open", friday_3pm)
    assert sla.due(Metric.resolution) == T0 + 7 * 24 * H + 6 * H  # Monday 15:00
    sla = on_status(sla, office, "open", "pending", friday_3pm + H)  # Friday 16:00, 1 h used
    sla = on_status(sla, office, "pending", "open", T0 + 8 * 24 * H)  # Tuesday 09:00
    assert sla.due(Metric.resolution) == T0 + 8 * 24 * H + 7 * H  # 7 office hours later


def test_solving_meets_resolution_and_reopening_resumes_it() -> None:
    sla = open_sla(terms(), "open", T0)
    sla = on_status(sla, terms(), "open", "solved", T0 + 2 * H)
    resolution = sla.metrics[Metric.resolution]
    assert (resolution.active, resolution.achieved, resolution.met_at) == (False, 1, T0 + 2 * H)
    assert not sla.metrics[Metric.first_reply].active
    assert next_at(sla) is None
    sla = on_status(sla, terms(), "solved", "open", T0 + 10 * H)
    assert sla.due(Metric.resolution) == T0 + 16 * H  # 2 h consumed before


def test_replies_meet_first_and_next_reply_cycles() -> None:
    p = policy("replies", normal=Targets(first_reply=60, next_reply=120))
    t = terms(p)
    sla = open_sla(t, "new", T0)
    sla = on_customer_message(sla, t, T0 + 0.5 * H)  # still owed a first reply: no change
    assert sla.due(Metric.next_reply) is None
    sla = on_agent_reply(sla, t, T0 + 0.5 * H)
    assert sla.metrics[Metric.first_reply].achieved == 1
    assert sla.due(Metric.first_reply) is None
    sla = on_customer_message(sla, t, T0 + 3 * H)
    assert sla.due(Metric.next_reply) == T0 + 5 * H
    sla = on_customer_message(sla, t, T0 + 4 * H)  # already owed: the due does not move
    assert sla.due(Metric.next_reply) == T0 + 5 * H
    sla, alerts = fire(sla, T0 + 5 * H)
    assert [(a.kind, a.metric) for a in alerts] == [("breached", Metric.next_reply)]
    sla = on_agent_reply(sla, t, T0 + 6 * H)
    clock = sla.metrics[Metric.next_reply]
    assert (clock.achieved, clock.missed, clock.active) == (0, 1, False)
    sla = on_customer_message(sla, t, T0 + 7 * H)  # a new cycle starts clean
    assert sla.due(Metric.next_reply) == T0 + 9 * H
    assert not sla.metrics[Metric.next_reply].breached
    assert sla.model_dump(mode="json")["breached"] == ["next_reply"]


def test_warning_then_breach_each_once() -> None:
    p = policy("warned", warn=30, normal=Targets(first_reply=60))
    t = terms(p)
    sla = open_sla(t, "new", T0)
    assert next_at(sla) == T0 + 0.5 * H
    sla, alerts = fire(sla, T0 + 0.4 * H)
    assert alerts == []
    sla, alerts = fire(sla, T0 + 0.5 * H)
    assert [(a.kind, a.due_at) for a in alerts] == [("warning", T0 + H)]
    assert next_at(sla) == T0 + H
    sla, again = fire(sla, T0 + 0.6 * H)
    assert again == []
    sla, alerts = fire(sla, T0 + 2 * H)
    assert [(a.kind, a.due_at) for a in alerts] == [("breached", T0 + H)]
    assert next_at(sla) is None
    sla, again = fire(sla, T0 + 3 * H)
    assert again == []


def test_a_late_sweep_breaches_without_a_warning_first() -> None:
    p = policy("warned", warn=30, normal=Targets(first_reply=60))
    _, alerts = fire(open_sla(terms(p), "new", T0), T0 + 5 * H)
    assert [a.kind for a in alerts] == ["breached"]


def test_warning_lead_is_business_time() -> None:
    p = policy("office", warn=60, normal=Targets(resolution=120))
    office = Terms(p, OFFICE, "normal")
    sla = open_sla(office, "new", T0 + 7 * H)  # Monday 16:00
    assert next_at(sla) == T0 + 8 * H  # warning at closing time, one office hour used
    assert sla.due(Metric.resolution) == T0 + 25 * H  # Tuesday 10:00


def test_no_policy_runs_clocks_that_a_later_policy_uses() -> None:
    sla = open_sla(terms(None), "new", T0)
    assert next_at(sla) is None and sla.policy is None
    sla = retarget(sla, AROUND_THE_CLOCK, terms(), T0 + 2 * H)
    assert sla.due(Metric.first_reply) == T0 + H  # 2 h consumed of a 1 h target: an hour late
    assert sla.due(Metric.resolution) == T0 + 8 * H


def test_raised_priority() -> None:
    assert raised("normal", None) == "high"
    assert raised("urgent", None) == "urgent"
    assert raised("low", "urgent") == "urgent"
    assert raised("high", "low") == "high"
