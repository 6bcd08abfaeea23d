"""Teams: one name per team (any case or width), and deleting one (QA 8, minor 10)."""

from __future__ import annotations

import asyncio

from kith.core.context import Core
from kith.core.pipeline import ingest
from kith.core.teams import create_team
from tests.support.cast import inbound
from tests.web.conftest import Cast


async def test_a_taken_name_is_refused_in_any_case_or_width(cast: Cast, browser) -> None:
    admin = await browser("admin")
    for name in ("sales", "  SALES ", "Ｓａｌｅｓ"):
        answer = await admin.api("POST", "/teams", json={"name": name})
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert (error["code"], error["field"], error["reason"]) == (
            "name_taken",
            "name",
            "name_taken",
        )
    support = cast.users["support"].id
    renamed = await admin.api("PATCH", f"/teams/{support}", json={"name": "SALES"})
    assert renamed.status_code == 409 and renamed.json()["error"]["field"] == "name"
    # Its own name in another case is a rename, not a clash.
    same = await admin.api("PATCH", f"/teams/{support}", json={"name": "SUPPORT"})
    assert same.status_code == 200 and same.json()["name"] == "SUPPORT"
    names = [t["name"] for t in (await admin.api("GET", "/teams")).json()["items"]]
    assert sorted(names) == ["SUPPORT", "Sales"]


async def test_two_admins_creating_one_name_at_once_make_one_team(
    core: Core, workspace_id: str
) -> None:
    """The unique index on the folded name settles the race the friendly check cannot."""
    results = await asyncio.gather(
        *(create_team(core, workspace_id, n) for n in ("Billing", "BILLING", "billing")),
        return_exceptions=True,
    )
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [getattr(r, "code", r) for r in results if isinstance(r, BaseException)]
    assert len(made) == 1 and refused == ["name_taken", "name_taken"]
    assert await core.store.teams.count_documents({"workspace_id": workspace_id}) == 1


async def test_deleting_a_team_moves_its_work_to_no_team_and_keeps_its_members(
    cast: Cast, browser, core: Core
) -> None:
    admin, alice = await browser("admin"), await browser("alice")
    sales = cast.users["sales"].id
    shop = cast.conversations["shop"]
    handed = await admin.api("PATCH", f"/conversations/{shop}", json={"team_id": sales})
    assert handed.status_code == 200, handed.text
    await core.store.collection("tickets").insert_one(
        {"_id": "t1", "workspace_id": cast.workspace_id, "team_id": sales}
    )
    held = (await admin.api("GET", f"/teams/{sales}/holdings")).json()
    assert held == {"members": 1, "conversations": 1, "tickets": 1, "used_by": {}}
    assert (await alice.api("DELETE", f"/teams/{sales}")).status_code == 403
    gone = await admin.api("DELETE", f"/teams/{sales}")
    assert gone.status_code == 200, gone.text
    assert gone.json() == {
        "deleted": True,
        "team_id": sales,
        "name": "Sales",
        "conversations": 1,
        "tickets": 1,
        "members": 1,
    }
    assert (await core.store.conversations.find_one({"_id": shop}))["team_id"] is None
    assert (await core.store.collection("tickets").find_one({"_id": "t1"}))["team_id"] is None
    assert (await alice.api("GET", "/me")).status_code == 200  # her account and session stay
    doc = await core.store.users.find_one({"_id": cast.users["alice"].id})
    assert doc["team_ids"] == [] and not doc.get("disabled")
    event = await core.store.events.find_one({"type": "team.deleted"})
    assert event["data"]["name"] == "Sales" and event["actor"]["id"] == cast.users["admin"].id
    assert (await admin.api("DELETE", f"/teams/{sales}")).status_code == 404
    # The name is free again.
    assert (await admin.api("POST", "/teams", json={"name": "sales"})).status_code == 201


async def test_a_team_a_bot_or_sla_policy_names_is_not_deleted(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    support = cast.users["support"].id
    ws = cast.workspace_id
    await core.store.collection("bots").insert_one(
        {
            "_id": "b1",
            "workspace_id": ws,
            "name": "Night bot",
            "flows": [{"steps": [{"type": "handoff", "team_id": support}]}],
        }
    )
    await core.store.collection("sla_policies").insert_one(
        {
            "_id": "p1",
            "workspace_id": ws,
            "name": "Gold",
            "breach_actions": [{"type": "notify_team", "team_id": support}],
        }
    )
    await core.store.collection("sequences").insert_one(
        {
            "_id": "s1",
            "workspace_id": ws,
            "name": "Welcome",
            "steps": [{"type": "notify_team", "team_id": support}],
        }
    )
    answer = await admin.api("DELETE", f"/teams/{support}")
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("team_in_use", "team_id")
    assert error["limits"]["names"] == "Night bot, Gold, Welcome"
    held = (await admin.api("GET", f"/teams/{support}/holdings")).json()
    assert held["used_by"] == {
        "bots": ["Night bot"],
        "sla_policies": ["Gold"],
        "sequences": ["Welcome"],
    }
    assert await core.store.teams.find_one({"_id": support}) is not None


async def test_a_conversation_of_a_deleted_teams_channel_still_reaches_its_agents(
    cast: Cast, browser, core: Core
) -> None:
    """Alice (Sales, channel Shop) loses the team; a new Shop team's agents see it again."""
    admin = await browser("admin")
    sales = cast.users["sales"].id
    assert (await admin.api("DELETE", f"/teams/{sales}")).status_code == 200
    await ingest(core, cast.shop, inbound(cast.shop, "ada", "Still there?"))
    listed = await admin.api("GET", "/conversations", params={"status": "any"})
    assert cast.conversations["shop"] in [c["id"] for c in listed.json()["items"]]
