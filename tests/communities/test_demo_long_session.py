"""`kith demo` runs its clock an hour a second: its sample group must still be whole after a
long session. Its rules have no timeout, so the raid's 50, 林梅 (the referral) and 韩梅梅 (the
README's walkthrough) stay, restricted until they press the button, however many demo days
pass; before, a 7-day timeout removed all 53 three real minutes in (86 members down to 33)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from kith.communities.demo import (
    DemoBotApi,
    newcomer_arrives,
    seed_demo_activity,
    seed_demo_community,
    use_demo_bot_api,
)
from kith.communities.joins import joins
from kith.communities.store import members
from kith.core.clock import ManualClock
from kith.core.context import Core
from tests.communities.welcome_support import run_due

HOUR = 3600.0
SESSION_HOURS = 2 * 3600  # two real hours of `kith demo`: 300 demo days
DEMO_API = DemoBotApi()


@pytest.fixture
def callbacks() -> FastAPI:
    """The demo's own Bot API, reached for every host (the demo's server in `kith demo`)."""
    app = FastAPI()
    app.include_router(DEMO_API.router())
    return app


async def _members(core: Core, community_id: str) -> dict[str, dict[str, Any]]:
    found = members(core).find({"community_id": community_id, "status": "member"})
    return {str(m.get("name")): m async for m in found}


async def test_the_demo_group_stays_whole_through_a_long_session(
    core: Core, clock: ManualClock, workspace_id: str
) -> None:
    DEMO_API.calls.clear()
    community = await seed_demo_community(core, workspace_id)
    await seed_demo_activity(core, workspace_id, community)
    await use_demo_bot_api(core, workspace_id, "http://demo.test")
    for _ in range(3):  # the welcome's pause, the raid's quiet window
        await run_due(core)
        clock.advance(13 * HOUR)
    await newcomer_arrives(core, community)
    await run_due(core)
    clock.advance(13 * HOUR)  # 韩梅梅 welcomed, restricted until she presses the button
    await run_due(core)
    before = await _members(core, community.id)
    assert len(before) == 86 and {"韩梅梅", "Lin Mei 林梅"} <= set(before), sorted(before)

    for _ in range(SESSION_HOURS // 240):  # ten demo days at a time, every timer due run
        clock.advance(240 * HOUR)
        await run_due(core)

    after = await _members(core, community.id)
    assert set(after) == set(before)  # nobody removed: the README's walkthrough still holds
    assert "banChatMember" not in [method for method, _ in DEMO_API.calls]
    han = await joins(core).find_one({"member_id": before["韩梅梅"]["_id"]})
    assert han is not None and han["rules"] == "pending" and han["restricted"]
