"""The demo's join request: a documented update through the webhook path leaves a pending
request and a note for the moderators, once however often it is seeded."""

from __future__ import annotations

from kith.communities.demo_join_requests import LINK_NAME, seed_demo_join_request
from kith.communities.store import community_id
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain

GROUP = "-1001234567890"


async def test_the_demo_request_waits_for_a_moderator(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    assert (await telegram.deliver(update("my_chat_member_admin"))).status_code == 200
    await drain(telegram.core)
    group = community_id(telegram.channel_id, GROUP)
    for _ in range(2):
        await seed_demo_join_request(telegram.core, workspace_id, group)
        await drain(telegram.core)
    answer = await telegram.http.get(
        f"/api/v1/communities/{group}/join-requests", headers=telegram.auth
    )
    assert answer.status_code == 200, answer.text
    [pending] = answer.json()["items"]
    assert (pending["name"], pending["via"]) == ("Zhang Wei 张伟", LINK_NAME)
    [note] = [m["text"] for m in await telegram.messages() if m.get("private")]
    assert "Zhang Wei 张伟" in note and LINK_NAME in note
