"""The demo clock: Kith's time at `speed` × the wall clock (monotonic time injected, no
sleeping), shown in the pages' header, while sign-in machinery keeps real seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kith.core.api_tokens import issue_api_token, token_access
from kith.core.clock import ManualClock, ScaledClock, wall
from kith.core.context import Core
from kith.core.errors import Unauthorized
from kith.core.sessions import IDLE_TIMEOUT
from kith.core.settings import Settings
from kith.web.app import build_core
from kith.web.demo import demo_settings
from tests.web.conftest import Cast


class Ticks:
    """A monotonic clock the test steps."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_an_hour_passes_each_second() -> None:
    ticks, base = Ticks(), ManualClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    clock = ScaledClock(3600, base=base, monotonic=ticks)
    assert clock.now() == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    ticks.at += 1
    assert clock.now() == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    ticks.at += 24 * 3 - 0.5  # three days (less half an hour) later
    assert clock.now() == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)
    assert wall(clock) is base and wall(base) is base


def test_a_clock_runs_forward() -> None:
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(0)


def test_the_setting_installs_it(settings: Settings) -> None:
    assert not isinstance(build_core(settings).clock, ScaledClock)
    fast = build_core(settings.model_copy(update={"demo_clock_speed": 3600.0}))
    assert isinstance(fast.clock, ScaledClock) and fast.clock.speed == 3600


async def test_sessions_keep_real_time_while_the_demo_runs_fast(
    core: Core, cast: Cast, browser, clock: ManualClock
) -> None:
    """A week of demo time passes in 168 s: a session (and a login lock) still lasts in
    real seconds, or the marketer would be signed out while watching a sequence."""
    ticks = Ticks()
    core.clock = ScaledClock(3600, base=clock, monotonic=ticks)
    alice = await browser("alice")
    ticks.at += 8 * 24  # eight demo days
    assert core.clock.now() - clock.now() == timedelta(days=8)
    assert (await alice.api("GET", "/me")).status_code == 200
    clock.advance(IDLE_TIMEOUT.total_seconds() + 1)  # but idle for real
    assert (await alice.api("GET", "/me")).status_code == 401


async def test_presence_and_token_expiry_keep_real_time_too(
    core: Core, cast: Cast, browser, clock: ManualClock
) -> None:
    """Two agents in one conversation see each other for the real half-minute a report
    lasts, not 8 ms; a token made to last a day lasts a real day, not 24 s."""
    admin, alice = await browser("admin"), await browser("alice")
    ticks = Ticks()
    core.clock = ScaledClock(3600, base=clock, monotonic=ticks)
    shop = cast.conversations["shop"]
    await admin.api("POST", f"/conversations/{shop}/presence", json={"state": "typing"})
    _, token = await issue_api_token(
        core, cast.workspace_id, "a day", expires_at=clock.now() + timedelta(days=1)
    )
    ticks.at += 10  # ten demo hours
    seen = (await alice.api("GET", f"/conversations/{shop}/presence")).json()["items"]
    assert [v["state"] for v in seen] == ["typing"]
    ticks.at += 48  # two demo days
    assert (await token_access(core, token, "GET")).name == "a day"
    clock.advance(31)  # but half a minute for real: the report is over
    assert (await alice.api("GET", f"/conversations/{shop}/presence")).json()["items"] == []
    clock.advance(24 * 3600)
    with pytest.raises(Unauthorized):
        await token_access(core, token, "GET")


async def test_the_header_shows_the_demo_clock(
    core: Core, cast: Cast, browser, clock: ManualClock
) -> None:
    alice = await browser("alice")
    normal = (await alice.api("GET", "/clock")).json()
    assert normal["speed"] == 1
    ticks = Ticks()
    core.clock = ScaledClock(3600, base=clock, monotonic=ticks)
    ticks.at += 2
    fast = (await alice.api("GET", "/clock")).json()
    assert fast["speed"] == 3600
    assert datetime.fromisoformat(fast["now"]) == clock.now() + timedelta(hours=2)
    for lang, label in (("en", "Demo time"), ("zh", "演示时间")):
        page = (await alice.http.get(f"/app?lang={lang}")).text
        assert 'id="demo-clock"' in page and label in page and "/app/static/clock.js" in page


def test_the_demo_stretches_leases_and_backoff_to_real_seconds(settings: Settings) -> None:
    fast = demo_settings(settings, 3600.0)
    assert fast.demo_clock_speed == 3600
    assert fast.outbox_lease_seconds == settings.outbox_lease_seconds * 3600
    assert fast.broadcast_lease_seconds == settings.broadcast_lease_seconds * 3600
    assert fast.outbox_backoff_base == settings.outbox_backoff_base * 3600


def test_the_demo_reconciles_segments_daily_unless_told_otherwise(settings: Settings) -> None:
    """At an hour a second, every 10 minutes was five full reads of the customers a second."""
    assert settings.segments_reconcile_cron == "*/10 * * * *"
    assert demo_settings(settings, 3600.0).segments_reconcile_cron == "0 3 * * *"
    chosen = settings.model_copy(update={"segments_reconcile_cron": "*/5 * * * *"})
    assert demo_settings(chosen, 3600.0).segments_reconcile_cron == "*/5 * * * *"
