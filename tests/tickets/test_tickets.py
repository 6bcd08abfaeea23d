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
from kith.core.customers import do_merge_customers
from kith.core.errors import Conflict, InvalidInput
from kith.core.features import install
from kith.core.pipeline import ingest
from kith.tickets.actions import (
    do_create_ticket,
    do_link_conversation,
    do_move_ticket,
    do_update_ticket,
)
from kith.tickets.feature import feature
from kith.tickets.models import Status, TicketIn, TicketPatch
from tests.support.cast import inbound
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
    assert (operator.status_code, operator.json()["error"]["field"]) == (422, "customer_id")


async def test_a_null_is_refused_where_it_names_no_value_and_nothing_is_written(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice = await browser("alice")
    body = {"subject": "Where is it", "conversation_id": cast.conversations["shop"]}
    ticket = (await alice.api("POST", "/tickets", json=body)).json()
    for name in ("subject", "status", "priority", "tags", "fields"):
        refused = await alice.api("PATCH", f"/tickets/{ticket['id']}", json={name: None})
        error = refused.json()["error"]
        assert (refused.status_code, error["field"]) == (422, name)
        assert error["message"] == "may not be null: leave the field out to keep it"
    emptied = await alice.api("PATCH", f"/tickets/{ticket['id']}", json={"description": None})
    assert (emptied.status_code, emptied.json()["description"]) == (200, "")
    listed = await alice.api("GET", "/tickets")
    assert [t["subject"] for t in listed.json()["items"]] == ["Where is it"]


async def test_an_agent_reaches_no_other_teams_customer_through_a_ticket(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice, bob = await browser("alice"), await browser("bob")
    shop = cast.conversations["shop"]
    peek = await bob.api("POST", "/tickets", json={"subject": "peek", "conversation_id": shop})
    assert peek.status_code == 403
    ada = (await core.store.conversations.find_one({"_id": shop}))["customer_id"]  # type: ignore[index]
    refused = await bob.api("POST", "/tickets", json={"subject": "peek", "customer_id": ada})
    assert refused.status_code == 403
    missing = await bob.api("POST", "/tickets", json={"subject": "x", "customer_id": "nope"})
    assert (missing.status_code, missing.json()["error"]["field"]) == (404, "customer_id")

    body = TicketIn(subject="Refund", conversation_id=shop)  # a rule's: no team
    ticket = await do_create_ticket(core, cast.workspace_id, body)
    assert [t["id"] for t in (await alice.api("GET", "/tickets")).json()["items"]] == [ticket.id]
    assert (await bob.api("GET", "/tickets")).json()["items"] == []
    assert (await bob.api("GET", f"/tickets/{ticket.id}/timeline")).status_code == 404
    assert (
        await bob.api("POST", f"/tickets/{ticket.id}/notes", json={"text": "x"})
    ).status_code == 404

    # Ada writes on Support's channel too, and that conversation joins the ticket: each team
    # sees the ticket, and in its timeline only the conversation it may read.
    other = await ingest(core, cast.help, inbound(cast.help, "ada", "My card is 4111 1111"))
    await do_merge_customers(core, cast.workspace_id, ada, other.message.customer_id)
    await do_link_conversation(core, cast.workspace_id, ticket.id, other.conversation.id)
    await ingest(core, cast.shop, inbound(cast.shop, "ada", "Any news?"))
    seen = {}
    for name, agent in (("alice", alice), ("bob", bob)):
        answer = await agent.api("GET", f"/tickets/{ticket.id}/timeline")
        assert answer.status_code == 200, answer.text
        seen[name] = [i["text"] for i in answer.json()["items"] if i["kind"] == "message"]
    assert seen == {
        "alice": ["Where is my order?", "Any news?"],  # the clock stands: all since it opened
        "bob": ["My card is 4111 1111"],
    }
    linking = await bob.api(
        "POST", f"/tickets/{ticket.id}/conversations", json={"conversation_id": shop}
    )
    assert linking.status_code == 403


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
