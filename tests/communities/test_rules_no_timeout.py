"""Rules with no timeout (`timeout_minutes: null`): a new member stays restricted until they
press the button, however long that takes; nobody is removed, and their join is kept so a
late press still lifts them."""

from __future__ import annotations

from datetime import timedelta

from kith.communities.joins import joins
from kith.communities.store import members
from kith.core.clock import ManualClock
from tests.communities.welcome_support import (
    community,
    install_admin,
    joined,
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
