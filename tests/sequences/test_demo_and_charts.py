"""The demo's welcome sequence as the issue describes it, and the funnel drawn as SVG."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from kith.core.context import Core
from kith.sequences.charts import days_chart, funnel_chart, funnel_rows
from kith.sequences.demo import seed_demo_sequence
from kith.sequences.models import (
    BranchStep,
    SendStep,
    SequenceStats,
    Status,
    StepStats,
    WaitStep,
)
from kith.sequences.store import get_version
from kith.sequences.waits import wait_end
from kith.web.demo import DemoLogins, banner
from kith.web.inbox.i18n import messages


async def test_the_demo_seeds_the_three_step_welcome(score: Core, workspace_id: str) -> None:
    made = await seed_demo_sequence(score, workspace_id)
    assert made.status == Status.draft and made.stop_on_reply
    version = await get_version(score, made.id, made.version)
    sends = [s for s in version.steps if isinstance(s, SendStep)]
    assert [s.id for s in sends] == ["welcome", "tip", "coupon"]
    assert all({"en", "zh"} <= s.message.text.keys() for s in sends)
    waits = [s for s in version.steps if isinstance(s, WaitStep)]
    assert waits[0].duration == timedelta(days=1) and waits[1].until is not None
    assert waits[1].until.time == "09:00"  # the customer's morning
    assert sum((w.duration or timedelta() for w in waits), timedelta()) == timedelta(days=3)
    # Who replied is stopped before the coupon (stop_on_reply): no branch says it again, one
    # on "replied" is refused as never taken (QA pass 7, minor 11).
    assert not any(isinstance(s, BranchStep) for s in version.steps)
    assert [s.id for s in version.steps][-2:] == ["coupon", "done"]


async def test_the_demo_banner_says_when_the_tip_really_goes_out(
    score: Core, workspace_id: str
) -> None:
    """A day, then until 09:00: from a Monday 10:00 welcome the tip is Wednesday 09:00, the
    second morning, and the banner says so (it said "the next morning")."""
    made = await seed_demo_sequence(score, workspace_id)
    version = await get_version(score, made.id, made.version)
    zone = ZoneInfo("Asia/Shanghai")
    welcome = datetime(2026, 3, 2, 10, 0, tzinfo=zone)  # a Monday
    at = welcome.astimezone(UTC)
    for step in version.steps[1:3]:
        assert isinstance(step, WaitStep)
        at = wait_end(step, at, zone)
    local = at.astimezone(zone)
    assert (local.date() - welcome.date()).days == 2 and local.hour == 9
    logins = DemoLogins("token", "channel", "secret", "password", None)
    text = " ".join(banner("http://kith.test", logins).split())
    assert "second morning" in text and "next morning" not in text


def test_the_funnel_is_drawn_accessibly_from_numbers() -> None:
    stats = SequenceStats(
        enrolled=10,
        steps={
            "welcome": StepStats(sent=10, delivered=9, replied=3, clicked=2, converted=1),
            "tip": StepStats(sent=6, delivered=6),
        },
    )
    rows = funnel_rows(stats, ["welcome", "tip", "coupon"])
    assert rows[0] == ("", "enrolled", 10) and ("tip", "delivered", 6) in rows
    assert not any(step == "coupon" for step, _, _ in rows)  # never ran: no bars
    t = {**messages("en"), "sequences_funnel": "Funnel <of> & more"}
    svg = str(funnel_chart(rows, t))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert '<title id="funnel-title">Funnel &lt;of&gt; &amp; more</title>' in svg
    assert 'aria-labelledby="funnel-title" aria-describedby="funnel-desc"' in svg and "<desc" in svg
    assert svg.count("<rect") == len(rows)


def test_the_days_are_lines_with_a_legend() -> None:
    class Point:
        def __init__(self, day: date, n: int) -> None:
            self.day, self.enrolled, self.sent, self.replied, self.converted = day, n, n, 0, 0

    days = [Point(date(2026, 3, 1) + timedelta(days=i), i) for i in range(30)]
    svg = str(days_chart(days, messages("zh")))
    assert svg.count("<polyline") == 4 and "趋势" in svg and "2026年3月30日" in svg
    assert str(days_chart([], messages("en"))) == ""
