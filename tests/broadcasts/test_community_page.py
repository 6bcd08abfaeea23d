"""The Broadcasts page's community audience, over the session: the picker's list (title,
platform, member count, whether the bot can still post), the page's markup in both
languages, and a draft to communities with its posts read back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from kith.broadcasts.feature import feature as broadcasts_feature
from kith.communities import roster
from kith.communities.feature import feature as communities_feature
from kith.communities.models import BotStatus, Community
from kith.core.context import Core
from kith.core.features import install
from tests.web.conftest import Cast, app, browser, cast

__all__ = ["app", "browser", "cast"]
AT = datetime(2026, 5, 1, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def with_features(core: Core) -> None:
    """Installed before the app is built (autouse fixtures come first)."""
    install(core, [communities_feature(core), broadcasts_feature(core)])


async def community(
    core: Core, workspace_id: str, chat: str, title: str, people: int, kind: str = "telegram"
) -> Community:
    made = await roster.see(
        core, roster.Chat(workspace_id, f"channel-{kind}", kind, chat, title, "supergroup")
    )
    for n in range(people):
        who = roster.Who(f"{chat}-{n}", f"customer-{n}", f"Member {n}")
        await roster.join(core, made, who, AT, None, f"{chat}:{n}")
    return made


async def test_the_picker_lists_the_workspaces_communities(
    core: Core, cast: Cast, browser: Callable[..., Any]
) -> None:
    club = await community(core, cast.workspace_id, "-1001", "Kettle Club", 3)
    await community(core, cast.workspace_id, "C042", "#kettle-devs", 2, kind="slack")
    gone = await community(core, cast.workspace_id, "-1002", "Old group", 1)
    await roster.set_bot_status(core, gone, BotStatus.left)
    await community(core, "another-workspace", "-1003", "Not ours", 1)

    mary = await browser("mary")
    answer = await mary.api("GET", "/broadcast-communities")
    assert answer.status_code == 200
    listed = [(c["title"], c["platform"], c["member_count"], c["can_post"]) for c in answer.json()]
    assert listed == [
        ("#kettle-devs", "slack", 2, True),
        ("Kettle Club", "telegram", 3, True),
        ("Old group", "telegram", 1, False),
    ]
    assert answer.json()[1]["id"] == club.id
    alice = await browser("alice")
    assert (await alice.api("GET", "/broadcast-communities")).status_code == 403


async def test_a_draft_to_communities_and_its_posts(
    core: Core, cast: Cast, browser: Callable[..., Any]
) -> None:
    club = await community(core, cast.workspace_id, "-1001", "Kettle Club", 3)
    devs = await community(core, cast.workspace_id, "C042", "#kettle-devs", 2, kind="slack")
    mary = await browser("mary")
    body = {
        "name": "Meet-up",
        "community_ids": [club.id, devs.id],
        "message": {"text": {"en": "Hi all"}},
    }
    made = await mary.api("POST", "/broadcasts", json=body)
    assert made.status_code == 201, made.text
    posts = await mary.api("GET", f"/broadcasts/{made.json()['id']}/communities")
    assert [(p["title"], p["platform"], p["outcome"]) for p in posts.json()] == [
        ("Kettle Club", "telegram", "pending"),
        ("#kettle-devs", "slack", "pending"),
    ]
    both = await mary.api("POST", "/broadcasts", json={**body, "segment_id": "s1"})
    assert both.status_code == 422 and both.json()["error"]["field"] == "community_ids"
    none = await mary.api("POST", "/broadcasts", json={**body, "community_ids": []})
    assert none.json()["error"]["field"] == "community_ids"


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ("Communities: post into groups", "Filter communities", "Posts per community")),
        ("zh", ("社群：发到群里", "筛选社群", "各社群发送情况")),
    ],
)
async def test_the_page_offers_the_community_audience_in_both_languages(
    cast: Cast, browser: Callable[..., Any], locale: str, words: tuple[str, ...]
) -> None:
    mary = await browser("mary")
    page = await mary.http.get("/app/broadcasts", headers={"Accept-Language": locale})
    assert page.status_code == 200
    for word in words:
        assert word in page.text
    assert 'id="community-picker"' in page.text and 'id="communities-error"' in page.text
    script = await mary.http.get("/app/broadcasts/static/broadcasts.js")
    assert "/broadcast-communities" in script.text
