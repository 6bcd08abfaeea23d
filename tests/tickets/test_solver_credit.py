"""A person who solves or closes an unassigned ticket is credited with it (as Zendesk does):
they become its assignee in the same write, the timeline says so, and the per-agent CSAT and
SLA reports name them. An API token or the system leave the ticket as it is; so does a change
that names the assignee itself. Guards QA5's major 3 ("solved unassigned credits nobody")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from kith.core.auth import create_user
from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from kith.core.models import Role, User
from kith.core.teams import add_member, create_team
from kith.tickets.actions import do_move_ticket
from kith.tickets.models import Status, Ticket
from kith.tickets.sla_models import PolicyIn, Targets
from kith.tickets.sla_store import save_policy
from tests.support.consumers import drain
from tests.tickets.test_csat import Desk, open_desk
from tests.web.conftest import (
    PASSWORD,
    cheap_password_hashing,  # noqa: F401 (autouse fixture)
    sign_in,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=utcnow())  # the embedded engine's rate limits read the wall clock


@dataclass
class Agent:
    user: User
    http: httpx.AsyncClient
    csrf: str

    async def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf}
        return await self.http.request(method, "/app/api" + path, headers=headers, **kw)


@dataclass
class Scene:
    desk: Desk
    alice: Agent
    bob: Agent

    def token(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.desk.token}"}

    async def ticket(self, user: str = "ada", **fields: Any) -> Ticket:
        return await self.desk.ticket(
            await self.desk.says("my parcel is late", user=user), **fields
        )

    async def timeline(self, ticket_id: str) -> list[dict[str, Any]]:
        answer = await self.desk.http.get(
            f"/api/v1/tickets/{ticket_id}/timeline", headers=self.token()
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])


@pytest.fixture
async def scene(core: Core, clock: ManualClock, workspace_id: str) -> AsyncIterator[Scene]:
    async with open_desk(core, clock, workspace_id) as desk:
        team = await create_team(core, workspace_id, "Support", [desk.channels["api"].id])
        await save_policy(
            core,
            workspace_id,
            PolicyIn(name="Standard", default=True, targets={"normal": Targets(first_reply=60)}),
        )
        agents = []
        for name in ("alice", "bob"):
            user = await create_user(
                core,
                workspace_id,
                f"{name}@kith.test",
                PASSWORD,
                name=name.title(),
                role=Role.agent,
            )
            await add_member(core, workspace_id, team.id, user.id)
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=desk.app), base_url="http://kith.test"
            )
            assert (await sign_in(http, f"{name}@kith.test")).status_code == 303
            csrf = (await http.get("/app/api/me")).json()["csrf_token"]
            agents.append(Agent(user, http, csrf))
        try:
            yield Scene(desk, *agents)
        finally:
            for agent in agents:
                await agent.http.aclose()


async def test_an_agent_solving_an_unassigned_ticket_is_credited_in_the_reports(
    scene: Scene,
) -> None:
    ticket = await scene.ticket()
    solved = await scene.alice.api("PATCH", f"/tickets/{ticket.id}", json={"status": "solved"})
    assert solved.status_code == 200, solved.text
    assert (solved.json()["status"], solved.json()["assignee_id"]) == (
        "solved",
        scene.alice.user.id,
    )
    # One write, one entry: the move and the assignment together, by Alice.
    [change] = [i for i in await scene.timeline(ticket.id) if i["type"] == "ticket.updated"]
    assert change["author"]["id"] == scene.alice.user.id
    assert change["data"]["changes"] == {
        "status": {"from": "new", "to": "solved"},
        "assignee_id": {"from": None, "to": scene.alice.user.id},
    }
    await drain(scene.desk.core)  # the survey is asked
    await scene.desk.says("2", user="ada")  # Ada rates it
    scene.desk.clock.advance(60)
    start = (scene.desk.clock.now() - timedelta(days=1)).isoformat()
    end = (scene.desk.clock.now() + timedelta(days=1)).isoformat()
    period = {"from": start, "to": end}
    csat = await scene.desk.http.get("/api/v1/tickets/csat", params=period, headers=scene.token())
    assert csat.status_code == 200, csat.text
    agents = [(row["id"], row["name"], row["average"]) for row in csat.json()["agents"]]
    assert agents == [(scene.alice.user.id, "Alice", 2.0)]
    sla = await scene.desk.http.get("/api/v1/sla/report", params=period, headers=scene.token())
    assert sla.status_code == 200, sla.text
    assert [row["id"] for row in sla.json()["by_agent"]] == [scene.alice.user.id]


async def test_closing_a_solved_unassigned_ticket_credits_who_closes_it(scene: Scene) -> None:
    ticket = await scene.ticket()
    await do_move_ticket(scene.desk.core, scene.desk.workspace_id, ticket.id, Status.solved)
    closed = await scene.bob.api("PATCH", f"/tickets/{ticket.id}", json={"status": "closed"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["assignee_id"] == scene.bob.user.id


async def test_a_token_the_system_an_assignee_or_a_named_one_are_left_as_they_are(
    scene: Scene,
) -> None:
    by_token = await scene.ticket("ada")
    answer = await scene.desk.http.patch(
        f"/api/v1/tickets/{by_token.id}", json={"status": "solved"}, headers=scene.token()
    )
    assert (answer.status_code, answer.json()["assignee_id"]) == (200, None)
    by_system = await scene.ticket("grace")
    moved = await do_move_ticket(
        scene.desk.core, scene.desk.workspace_id, by_system.id, Status.solved
    )
    assert moved.assignee_id is None
    held = await scene.ticket("li", assignee_id=scene.bob.user.id)
    answer = await scene.alice.api("PATCH", f"/tickets/{held.id}", json={"status": "solved"})
    assert answer.json()["assignee_id"] == scene.bob.user.id  # Bob's, whoever solves it
    named = await scene.ticket("tom")
    patch = {"status": "solved", "assignee_id": None}  # solved on purpose as nobody's
    answer = await scene.alice.api("PATCH", f"/tickets/{named.id}", json=patch)
    assert (answer.status_code, answer.json()["assignee_id"]) == (200, None)
    pending = await scene.ticket("sam")
    answer = await scene.alice.api("PATCH", f"/tickets/{pending.id}", json={"status": "pending"})
    assert answer.json()["assignee_id"] is None  # only solving or closing credits
