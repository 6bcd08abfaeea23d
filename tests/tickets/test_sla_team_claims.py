"""One SLA policy per team: a second policy claiming a team is refused (409 on `team_id`,
naming the policy that holds it), on create and on replace, even when two saves race; a
refused save leaves the workspace's default as it was. A database holding two policies of one
team from before (the older won silently) still starts, and either is refused until one lets
the team go."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pymongo.errors import DuplicateKeyError

from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.features import install
from kith.core.ids import new_id
from kith.core.teams import get_team
from kith.tickets.feature import feature
from kith.tickets.sla_models import PolicyIn, SlaPolicy
from kith.tickets.sla_store import POLICIES, list_policies, policy_for, save_policy
from kith.web.app import create_app
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    cast,
    cheap_password_hashing,
)

TARGETS = {"normal": {"first_reply": 60}}


@pytest.fixture(autouse=True)
def with_tickets(core: Core) -> None:
    install(core, [feature(core)])


@pytest.fixture
async def started(core: Core) -> None:
    await core.start()  # the tickets' indexes too


async def team_id(core: Core, cast: Cast, name: str) -> str:  # noqa: F811
    doc = await core.store.teams.find_one({"workspace_id": cast.workspace_id, "name": name})
    assert doc is not None
    return (await get_team(core, cast.workspace_id, str(doc["_id"]))).id


def policy(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "targets": TARGETS, **extra}


async def test_a_team_claimed_by_a_policy_is_refused_to_another(
    core: Core,
    cast: Cast,  # noqa: F811
    http: httpx.AsyncClient,
) -> None:
    sales = await team_id(core, cast, "Sales")
    standard = await http.post("/api/v1/sla/policies", json=policy("Standard", default=True))
    held = await http.post("/api/v1/sla/policies", json=policy("Sales desk", team_id=sales))
    assert (standard.status_code, held.status_code) == (201, 201), held.text
    holder = held.json()

    def taken(answer: httpx.Response) -> tuple[int, str, str, dict[str, Any]]:
        error = answer.json()["error"]
        return answer.status_code, error["field"], error["reason"], error["limits"]

    refusal = (
        409,
        "team_id",
        "policy_team_taken",
        {"policy_id": holder["id"], "name": "Sales desk"},
    )
    # Created with the team, even as the new default: refused, and the default stays.
    second = await http.post(
        "/api/v1/sla/policies", json=policy("Sales again", team_id=sales, default=True)
    )
    assert taken(second) == refusal
    assert second.json()["error"]["message"] == "the policy 'Sales desk' already covers this team"
    # Replaced onto the team: refused too.
    support = await http.post("/api/v1/sla/policies", json=policy("Support"))
    moved = await http.put(
        f"/api/v1/sla/policies/{support.json()['id']}", json=policy("Support", team_id=sales)
    )
    assert taken(moved) == refusal
    # With another fault too: every field at once (422, the form's faults first).
    both = await http.post("/api/v1/sla/policies", json=policy("Standard", team_id=sales))
    assert both.status_code == 422
    assert [f["field"] for f in both.json()["error"]["fields"]] == ["name", "team_id"]
    policies = await list_policies(core, cast.workspace_id)
    assert sorted(p.name for p in policies) == ["Sales desk", "Standard", "Support"]
    assert [p.name for p in policies if p.default] == ["Standard"]

    # The holder keeps saving with its team; once it lets the team go, another takes it.
    kept = await http.put(
        f"/api/v1/sla/policies/{holder['id']}", json=policy("Sales desk", team_id=sales)
    )
    assert kept.status_code == 200, kept.text
    let_go = await http.put(f"/api/v1/sla/policies/{holder['id']}", json=policy("Sales desk"))
    assert let_go.status_code == 200, let_go.text
    taken_over = await http.put(
        f"/api/v1/sla/policies/{support.json()['id']}", json=policy("Support", team_id=sales)
    )
    assert taken_over.status_code == 200, taken_over.text
    found = await policy_for(core, cast.workspace_id, sales)
    assert found is not None and found.name == "Support"


async def test_two_saves_racing_for_one_team_do_not_both_win(
    core: Core,
    cast: Cast,  # noqa: F811
    started: None,
) -> None:
    sales = await team_id(core, cast, "Sales")
    saves = [
        save_policy(core, cast.workspace_id, PolicyIn.model_validate(policy(n, team_id=sales)))
        for n in ("One", "Two")
    ]
    results = await asyncio.gather(*saves, return_exceptions=True)
    won = [r for r in results if isinstance(r, SlaPolicy)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], Conflict) and lost[0].field == "team_id"
    assert lost[0].limits == {"policy_id": won[0].id, "name": won[0].name}
    assert [p.name for p in await list_policies(core, cast.workspace_id)] == [won[0].name]


async def test_the_index_holds_one_claim_per_team(
    core: Core,
    cast: Cast,  # noqa: F811
    started: None,
) -> None:
    """The race's last word, whichever check ran first: the store refuses a second claim."""
    sales = await team_id(core, cast, "Sales")
    made = await save_policy(
        core, cast.workspace_id, PolicyIn.model_validate(policy("One", team_id=sales))
    )
    twin = made.model_copy(update={"id": new_id(), "name": "Twin"}).to_doc()
    with pytest.raises(DuplicateKeyError):
        await core.store.collection(POLICIES).insert_one(twin | {"team_key": sales})
    # Policies without a team claim nothing: any number of them.
    for name in ("No team 1", "No team 2"):
        await save_policy(core, cast.workspace_id, PolicyIn.model_validate(policy(name)))


async def test_two_old_policies_of_one_team_still_start_and_must_be_parted(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    """Stored before the claim existed (no `team_key`): start-up (the app's, which builds
    the indexes) does not fail over them, the older one still wins, and saving either keeps it
    from claiming a team the other holds."""
    sales = await team_id(core, cast, "Sales")
    now = core.clock.now()
    old = [
        SlaPolicy.model_validate(
            policy(name, team_id=sales)
            | {"id": new_id(), "workspace_id": cast.workspace_id}
            | {"created_at": now, "updated_at": now}
        )
        for name in ("Older", "Newer")
    ]
    await core.store.collection(POLICIES).insert_many([p.to_doc() for p in old])
    token = await create_api_token(core, cast.workspace_id, "test")
    async with (
        LifespanManager(create_app(core=core, run_workers=False)) as started,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=started.app),
            base_url="http://kith.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as http,
    ):
        found = await policy_for(core, cast.workspace_id, sales)
        assert found is not None and found.name == "Older"
        older, newer = (f"/api/v1/sla/policies/{p.id}" for p in old)
        refused = await http.put(newer, json=policy("Newer", team_id=sales))
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["limits"]["name"] == "Older"
        assert (await http.put(newer, json=policy("Newer"))).status_code == 200
        assert (await http.put(older, json=policy("Older", team_id=sales))).status_code == 200
