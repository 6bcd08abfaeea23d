"""The #18 walk in the demo: a burst of 50 joins makes one summary, not 50 welcomes; a
newcomer gets the welcome with the rules button; a spammer's banned link is deleted and
warned, in the audit log; an invite link credits the member who shared it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from kith.communities.audit import audit
from kith.communities.demo import (
    DemoBotApi,
    newcomer_arrives,
    seed_demo_activity,
    seed_demo_community,
    use_demo_bot_api,
)
from kith.communities.referrals import REFERRALS
from kith.communities.store import members
from kith.core.clock import ManualClock
from kith.core.context import Core
from tests.communities.welcome_support import posted, run_due

HOUR = 3600.0
DEMO_API = DemoBotApi()


@pytest.fixture
def callbacks() -> FastAPI:
    """The demo's own Bot API, reached for every host (the demo's server in `kith demo`)."""
    app = FastAPI()
    app.include_router(DEMO_API.router())
    return app


async def test_the_demo_group_welcomes_survives_a_raid_moderates_and_credits(
    core: Core, clock: ManualClock, workspace_id: str
) -> None:
    DEMO_API.calls.clear()
    community = await seed_demo_community(core, workspace_id)
    await seed_demo_activity(core, workspace_id, community)
    await use_demo_bot_api(core, workspace_id, "http://demo.test")
    for _ in range(3):  # the welcome's pause, the raid's quiet window: hours of demo time
        await run_due(core)
        clock.advance(13 * HOUR)
    await run_due(core)
    await newcomer_arrives(core, community)  # after the raid
    await run_due(core)
    clock.advance(13 * HOUR)
    await run_due(core)

    said = [m["text"] for m in await posted(core, community.conversation_id)]
    assert sum("Visitor" in text for text in said) == 0  # no welcome per raider
    summaries = [text for text in said if "new members joined" in text]
    assert len(summaries) == 1, said  # the 50 raiders, and whoever joined in that window
    [summary] = [m for m in await posted(core, community.conversation_id) if m["text"] in summaries]
    assert summary["buttons"][0]["payload"].startswith("kith-rules:raid:")  # they accept there
    said = [m["text"] for m in await posted(core, community.conversation_id)]
    [newcomer] = [m for m in await posted(core, community.conversation_id) if "韩梅梅" in m["text"]]
    assert newcomer["text"].startswith("欢迎") and newcomer["buttons"]
    assert "restrictChatMember" in [method for method, _ in DEMO_API.calls]

    rows = await audit(core).find({"community_id": community.id}).to_list(None)
    actions = {row["action"] for row in rows}
    assert {"delete", "warn"} <= actions, rows
    assert "deleteMessage" in [method for method, _ in DEMO_API.calls]

    credited = await core.store.collection(REFERRALS).find({"status": "credited"}).to_list(None)
    assert len(credited) == 1
    friend = await members(core).find_one({"_id": credited[0]["member_id"]})
    assert friend is not None and friend["spans"][0]["via"].endswith(credited[0]["code"])

    # Every join of the demo came as a chat_member update; no service copy counted twice.
    joined = await core.store.events.find({"type": "community.member_joined"}).to_list(None)
    everyone = await members(core).count_documents({})
    assert len({e["data"]["member_id"] for e in joined}) == everyone
    assert len(joined) == everyone + 1  # one member came back: two joins
