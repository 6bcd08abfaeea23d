"""The demo's membership updates make the roster they describe."""

from __future__ import annotations

from datetime import UTC, datetime

from kith.communities.demo_tgadmin import seed_telegram_membership
from kith.communities.store import community_id
from kith.core.channel_records import get_channel
from kith.core.clock import ManualClock
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain

CHAT = -1001999888777


class Ticking(ManualClock):
    """Time moving on between calls, as the demo's real clock does (the roster consumer
    takes events in log order; one frozen instant would leave their order to chance)."""

    def now(self) -> datetime:
        return self.advance(0.001)


async def test_three_join_through_the_link_one_leaves_and_no_one_else_is_a_member(
    telegram: TelegramSetup,
) -> None:
    channel = await get_channel(telegram.core, None, telegram.channel_id)
    telegram.core.clock = Ticking(telegram.core.clock.now())
    await seed_telegram_membership(
        telegram.core, channel, CHAT, "Demo Kettles", datetime(2026, 1, 5, tzinfo=UTC)
    )
    await drain(telegram.core)
    cid = community_id(telegram.channel_id, str(CHAT))
    community = await telegram.http.get(f"/api/v1/communities/{cid}", headers=telegram.auth)
    assert community.json()["member_count"] == 2
    assert community.json()["bot_status"] == "admin"
    members = []
    for status in ("member", "left"):
        page = await telegram.http.get(
            f"/api/v1/communities/{cid}/members?status={status}", headers=telegram.auth
        )
        members += page.json()["items"]
    assert sorted(m["name"] for m in members) == ["Ana Silva", "Mei Han", "Tom Baker"]
    assert {m["spans"][0]["via"] for m in members} == {"ref-demo"}
    assert len(await telegram.messages()) == 2  # the admin's notice and the channel's forward
