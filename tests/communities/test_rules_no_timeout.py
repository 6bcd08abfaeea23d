"""Rules with no timeout (`timeout_minutes: null`): a new member stays restricted until they
press the button, however long that takes; nobody is removed, and their join is kept so a
late press still lifts them, until they leave: then it is closed and dropped in time."""

from __future__ import annotations

from datetime import timedelta

from kith.communities.joins import KEPT, joins
from kith.communities.store import members
from kith.core.clock import ManualClock, aware
from tests.communities.welcome_support import (
    DATE,
    community,
    install_admin,
    joined,
    left,
    posted,
    pressed,
    run_due,
    user,
)
from tests.connectors.telegram.conftest import TelegramSetup

KATE = user(424242004, "Katherine", "en")
RULES = {"enabled": True, "texts": {"en": "Be kind."}, "timeout_minutes": None}


async def test_with_no_timeout_a_member_waits_restricted_and_a_late_press_lifts(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    admin = install_admin(telegram.core)
    group = await community(telegram, welcome={"enabled": True, "delay_seconds": 10}, rules=RULES)
    assert group["rules"]["timeout_minutes"] is None
    await telegram.deliver(joined(KATE))
    await run_due(telegram.core)
    clock.advance(10)  # the welcome's pause: then the welcome and its button
    await run_due(telegram.core)
    said = await posted(telegram.core, group["conversation_id"])
    [welcome] = [m for m in said if "Katherine" in m["text"]]

    clock.advance(timedelta(days=365).total_seconds())  # far past any timeout the rules allow
    await run_due(telegram.core)
    assert admin.of(KATE["id"]) == ["restrict"]  # not removed
    member = await members(telegram.core).find_one({"platform_user_id": str(KATE["id"])})
    assert member is not None and member["status"] == "member"
    join = await joins(telegram.core).find_one({"platform_user_id": str(KATE["id"])})
    assert join["rules"] == "pending" and join["purge_at"] is None  # kept for her press

    await telegram.deliver(pressed(KATE, welcome["buttons"][0]["payload"]))
    await run_due(telegram.core)
    assert admin.of(KATE["id"]) == ["restrict", "unrestrict"]


async def test_a_member_who_leaves_before_accepting_closes_their_waiting_join(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    """Regression: with no timeout, nothing ever ended the join of a member who left
    without pressing; it stayed `pending`, kept for good. A rejoin waits afresh."""
    install_admin(telegram.core)
    await community(telegram, welcome={"enabled": True, "delay_seconds": 10}, rules=RULES)
    await telegram.deliver(joined(KATE, date=DATE))
    await run_due(telegram.core)
    clock.advance(60)
    await telegram.deliver(left(KATE, date=DATE + 60))
    await telegram.deliver(left(KATE, date=DATE + 61))  # a second update changes nothing
    await run_due(telegram.core)
    [join] = await joins(telegram.core).find({"platform_user_id": str(KATE["id"])}).to_list(None)
    assert join["rules"] == "left"
    assert aware(join["purge_at"]) == clock.now() + KEPT  # dropped in time like any join

    clock.advance(60)
    await telegram.deliver(joined(KATE, date=DATE + 120))
    await run_due(telegram.core)
    found = joins(telegram.core).find({"platform_user_id": str(KATE["id"])}).sort("at", 1)
    first, again = await found.to_list(None)
    assert first["rules"] == "left"
    assert again["rules"] == "pending" and again["purge_at"] is None  # kept for her press
