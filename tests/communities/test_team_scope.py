"""A team-bound agent sees the communities of their teams' channels only, as they see those
channels' conversations: another team's group, its roster, figures, moderation log, join
requests and referrals are 403 on the API and on the page, and lists leave it out. Admins,
marketers and API tokens see the whole workspace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kith.communities.store import community_id
from kith.core.teams import do_change_team
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)

GROUP = "-1001234567890"
READS = ("", "/members", "/stats", "/audit", "/join-requests", "/referrals")
WRITES = ("/audit/nope/lift", "/join-requests/nope/approve")


async def _group_on_sales(telegram: TelegramSetup, cast: Cast) -> str:  # noqa: F811
    """The Telegram group's community, its channel given to Sales (alice's team, not bob's)."""
    await telegram.deliver(update("group_text"))
    await drain(telegram.core)
    sales = cast.users["sales"]
    channels = [cast.shop.id, telegram.channel_id]
    await do_change_team(telegram.core, cast.workspace_id, sales.id, channel_ids=channels)
    return community_id(telegram.channel_id, GROUP)


async def test_another_teams_community_is_refused_on_every_route(
    telegram: TelegramSetup,
    cast: Cast,  # noqa: F811 (the fixture imported above)
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    cid = await _group_on_sales(telegram, cast)
    alice, bob = await browser("alice"), await browser("bob")
    for path in READS:
        refused = await bob.api("GET", f"/communities/{cid}{path}")
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"]["code"] == "forbidden"
        assert (await alice.api("GET", f"/communities/{cid}{path}")).status_code == 200, path
    for path in WRITES:
        assert (await bob.api("POST", f"/communities/{cid}{path}")).status_code == 403, path
        past_the_scope = await alice.api("POST", f"/communities/{cid}{path}")
        assert past_the_scope.status_code == 404, path  # no such row or request: scope passed
    missing = await bob.api("GET", "/communities/nope")
    assert missing.status_code == 404  # what the workspace lacks is 404 for everyone


async def test_lists_leave_out_other_teams_groups_but_not_for_managers_or_tokens(
    telegram: TelegramSetup,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    cid = await _group_on_sales(telegram, cast)
    by_group = f"?channel_id={telegram.channel_id}&chat_id={GROUP}"
    for who, sees in (("alice", [cid]), ("bob", []), ("admin", [cid]), ("mary", [cid])):
        client = await browser(who)
        for query in ("", by_group):
            listed = await client.api("GET", f"/communities{query}")
            assert [c["id"] for c in listed.json()["items"]] == sees, (who, query)
    token = await telegram.http.get("/api/v1/communities", headers=telegram.auth)
    assert [c["id"] for c in token.json()["items"]] == [cid]
    assert (await telegram.http.get(f"/api/v1/communities/{cid}", headers=telegram.auth)).is_success


async def test_the_pages_show_an_agent_their_teams_groups_only(
    telegram: TelegramSetup,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    cid = await _group_on_sales(telegram, cast)
    alice, bob = await browser("alice"), await browser("bob")
    listed = await alice.http.get("/app/communities")
    assert f'href="/app/communities/{cid}"' in listed.text
    assert (await alice.http.get(f"/app/communities/{cid}")).status_code == 200

    empty = await bob.http.get("/app/communities")
    assert f"/app/communities/{cid}" not in empty.text
    assert "No community on your teams&#39; channels yet." in empty.text
    refused = await bob.http.get(f"/app/communities/{cid}", headers={"Accept-Language": "zh"})
    assert refused.status_code == 403
    assert "这个社群的群组在其他团队的渠道上。" in refused.text
    assert "Kettle" not in refused.text and GROUP not in refused.text
