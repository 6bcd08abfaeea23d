"""The Communities page's lane, `/app/api/communities/…`: a marketer makes invite links and
reads the leaderboard with their session; an agent reads but makes none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kith.core.teams import do_change_team
from tests.communities.referral_support import (
    BotApiWithMe,
    customer_of,
    install_admin,
    make_group,
    private,
)
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup
from tests.support.consumers import drain
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)

ADA = 424242001


@pytest.fixture
def callbacks() -> BotApiWithMe:
    return BotApiWithMe(token=BOT_TOKEN)


async def test_a_marketer_makes_a_link_and_an_agent_only_reads(
    telegram: TelegramSetup,
    cast: Cast,  # noqa: F811 (the fixture imported above)
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    admin = install_admin(telegram.core)
    group = await make_group(telegram)
    await telegram.deliver(private(ADA, "Ada", "hello", 1))
    await drain(telegram.core)
    ada = await customer_of(telegram.core, telegram.channel_id, ADA)
    path = f"/communities/{group.id}/invite-links"
    sales = cast.users["sales"]  # alice's team, now with the Telegram channel too
    await do_change_team(
        telegram.core, cast.workspace_id, sales.id, channel_ids=[cast.shop.id, telegram.channel_id]
    )
    alice, mary = await browser("alice"), await browser("mary")
    refused = await alice.api("POST", path, json={"customer_id": ada})
    assert refused.status_code == 403
    made = await mary.api("POST", path, json={"customer_id": ada, "name": "从群里"})
    assert made.status_code == 201, made.text
    assert made.json()["invite_link"] == "https://t.me/+link1"
    assert len(admin.links) == 1
    await group.join(500001, "Bob", f"从群里 ref_{made.json()['code']}")
    board = await alice.api("GET", f"/communities/{group.id}/referrals")
    other_team = await (await browser("bob")).api("GET", f"/communities/{group.id}/referrals")
    assert other_team.status_code == 403, other_team.text
    assert [(r["customer_id"], r["credited"]) for r in board.json()["items"]] == [(ada, 1)]
