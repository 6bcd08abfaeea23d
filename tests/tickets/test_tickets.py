"""Tickets: opened from a conversation or for a customer, numbered without gaps or repeats,
moved only along the allowed statuses, and seen only by those allowed to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput
from kith.core.features import install
from kith.tickets.actions import do_create_ticket, do_move_ticket, do_update_ticket
from kith.tickets.feature import feature
from kith.tickets.models import Status, TicketIn, TicketPatch
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


@pytest.fixture(autouse=True)
def with_tickets(core: Core) -> None:
    install(core, [feature(core)])


async def test_a_ticket_from_a_conversation_links_it_and_quotes_the_customer(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    body = TicketIn(subject="Order missing", conversation_id=cast.conversations["shop"])
    ticket = await do_create_ticket(core, cast.workspace_id, body)
    conversation = await core.store.conversations.find_one({"_id": cast.conversations["shop"]})
    assert conversation is not None
    assert ticket.customer_id == conversation["customer_id"]
    assert ticket.conversation_ids == [cast.conversations["shop"]]
    assert ticket.description == "> Where is my order?"
    assert (ticket.number, ticket.status, ticket.team_id) == (1, Status.new, None)
    event = await core.store.events.find_one({"type": "ticket.created"})
    assert event is not None
    assert event["data"]["ticket_id"] == ticket.id
    assert event["conversation_id"] == cast.conversations["shop"]


async def test_racing_creates_take_every_number_once(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    body = TicketIn(subject="Crash", conversation_id=cast.conversations["help"])
    made = await asyncio.gather(
        *(do_create_ticket(core, cast.workspace_id, body) for _ in range(12))
    )
    assert sorted(t.number for t in made) == list(range(1, 13))


async def test_statuses_move_only_along_the_allowed_moves(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    body = TicketIn(subject="Crash", conversation_id=cast.conversations["help"])
    ticket = await do_create_ticket(core, cast.workspace_id, body)
    with pytest.raises(Conflict) as refused:
        await do_move_ticket(core, cast.workspace_id, ticket.id, Status.closed)
    assert refused.value.limits["allowed"] == ["on_hold", "open", "pending", "solved"]
    solved = await do_move_ticket(core, cast.workspace_id, ticket.id, Status.solved)
    assert (solved.resolutions, solved.solved_at is not None) == (1, True)
    reopened = await do_move_ticket(core, cast.workspace_id, ticket.id, Status.open)
    assert reopened.solved_at is None
    again = await do_move_ticket(core, cast.workspace_id, ticket.id, Status.solved)
    assert again.resolutions == 2
    moves = await core.store.events.find({"type": "ticket.status_changed"}).to_list(None)
    assert [(e["data"]["from"], e["data"]["to"]) for e in moves] == [
        ("new", "solved"),
        ("solved", "open"),
        ("open", "solved"),
    ]


async def test_a_change_records_what_changed_and_refuses_strangers(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    body = TicketIn(subject="Crash", conversation_id=cast.conversations["help"])
    ticket = await do_create_ticket(core, cast.workspace_id, body)
    bob = cast.users["bob"]
    patch = TicketPatch(priority="high", assignee_id=bob.id, tags=["app", "app"])
    changed = await do_update_ticket(core, cast.workspace_id, ticket.id, patch)
    assert (changed.priority, changed.assignee_id, changed.tags) == ("high", bob.id, ["app"])
    event = await core.store.events.find_one({"type": "ticket.updated"})
    assert event is not None
    assert event["data"]["changes"]["priority"] == {"from": "normal", "to": "high"}
    with pytest.raises(InvalidInput) as refused:
        await do_update_ticket(core, cast.workspace_id, ticket.id, TicketPatch(team_id="nope"))
    assert refused.value.field == "team_id"
    same = await do_update_ticket(core, cast.workspace_id, ticket.id, TicketPatch(priority="high"))
    assert same.updated_at == changed.updated_at  # nothing to change: no write, no event
    assert await core.store.events.count_documents({"type": "ticket.updated"}) == 1


async def test_agents_see_their_teams_tickets_and_marketers_only_read(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice, bob, mary = await browser("alice"), await browser("bob"), await browser("mary")
    sales = cast.users["sales"].id
    made = await alice.api(
        "POST",
        "/tickets",
        json={"subject": "Where is it", "conversation_id": cast.conversations["shop"]},
    )
    assert made.status_code == 201, made.text
    ticket = made.json()
    assert ticket["created_by"]["name"] == "Alice"
    moved = await alice.api("PATCH", f"/tickets/{ticket['id']}", json={"team_id": sales})
    assert moved.json()["team_id"] == sales
    assert (await bob.api("GET", f"/tickets/{ticket['id']}")).status_code == 404
    assert (await bob.api("GET", "/tickets")).json()["items"] == []
    listed = (await alice.api("GET", "/tickets", params={"status": ["new", "open"]})).json()
    assert [t["number"] for t in listed["items"]] == [1]
    assert (await mary.api("GET", f"/tickets/{ticket['id']}")).status_code == 200
    refused = await mary.api("PATCH", f"/tickets/{ticket['id']}", json={"status": "open"})
    assert refused.status_code == 403
    bad = await alice.api("PATCH", f"/tickets/{ticket['id']}", json={"status": "closed"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (409, "status")
    operator = await alice.api("GET", "/tickets", params={"customer_id": '{"$ne": null}'})
    assert operator.json()["items"] == []


async def test_the_token_api_opens_a_ticket_for_a_customer(
    core: Core,
    cast: Cast,  # noqa: F811
    app: Any,  # noqa: F811
) -> None:
    token = await create_api_token(core, cast.workspace_id, "test")
    conversation = await core.store.conversations.find_one({"_id": cast.conversations["help"]})
    assert conversation is not None
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kith.test", headers=headers
    ) as http:
        made = await http.post(
            "/api/v1/tickets",
            json={"subject": "Refund", "customer_id": conversation["customer_id"]},
        )
        assert made.status_code == 201, made.text
        assert made.json()["source"] == "api"
        missing = await http.post("/api/v1/tickets", json={"subject": "Refund"})
        assert (missing.status_code, missing.json()["error"]["field"]) == (422, "conversation_id")
        blank = await http.post("/api/v1/tickets", json={"subject": " ", "customer_id": "x"})
        assert (blank.status_code, blank.json()["error"]["field"]) == (422, "subject")
