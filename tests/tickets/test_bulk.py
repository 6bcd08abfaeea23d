"""The list's bulk change (`POST /tickets/bulk`) and its customer names: each ticket changed as
its own PATCH would change it, in the agent's scope, each refusal named per ticket, bad input
refused before anything is written; and each listed ticket names its customer, as the reader
may see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.tickets.actions import do_create_ticket, do_move_ticket, do_update_ticket
from kith.tickets.feature import feature
from kith.tickets.models import Status, Ticket, TicketIn, TicketPatch
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


async def opened(core: Core, cast: Cast, subject: str, where: str = "shop") -> Ticket:  # noqa: F811
    body = TicketIn(subject=subject, conversation_id=cast.conversations[where])
    return await do_create_ticket(core, cast.workspace_id, body)


async def events(core: Core, kind: str) -> list[str]:
    """The ticket ids of the events of `kind`, in the order recorded."""
    found = await core.store.events.find({"type": kind}).to_list(None)
    return sorted(e["data"]["ticket_id"] for e in found)


async def stored_status(core: Core, ticket: Ticket) -> str:
    doc = await core.store.collection("tickets").find_one({"_id": ticket.id})
    assert doc is not None
    return str(doc["status"])


async def test_a_bulk_change_changes_each_ticket_once_and_names_each_refusal(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice = await browser("alice")  # Sales: the shop's conversations
    one, two = await opened(core, cast, "One"), await opened(core, cast, "Two")
    solved = await opened(core, cast, "Solved")
    await do_move_ticket(core, cast.workspace_id, solved.id, Status.solved)
    support = await opened(core, cast, "Support's", where="help")  # another team's
    ids = [one.id, two.id, solved.id, support.id, "nope", one.id]
    before = len(await events(core, "ticket.updated"))

    answer = await alice.api(
        "POST", "/tickets/bulk", json={"ids": ids, "patch": {"status": "pending"}}
    )

    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert (out["changed"], out["unchanged"]) == ([one.id, two.id], [])
    refused = {r["id"]: r for r in out["refused"]}
    assert list(refused) == [solved.id, support.id, "nope"]  # each once, in the order named
    moving = refused[solved.id]
    assert (moving["status"], moving["field"], moving["reason"]) == (
        409,
        "status",
        "transition_refused",
    )
    assert (moving["number"], moving["limits"]["allowed"]) == (solved.number, ["closed", "open"])
    # Another team's ticket is refused as one that does not exist, as its own PATCH is.
    assert [(refused[i]["status"], refused[i]["field"]) for i in (support.id, "nope")] == [
        (404, "ticket_id"),
        (404, "ticket_id"),
    ]
    assert refused[support.id]["number"] is None
    assert [await stored_status(core, t) for t in (one, two, solved, support)] == [
        "pending",
        "pending",
        "solved",
        "new",
    ]
    updated = await events(core, "ticket.updated")
    assert len(updated) == before + 2
    assert await events(core, "ticket.status_changed") == sorted([solved.id, one.id, two.id])

    again = await alice.api(
        "POST", "/tickets/bulk", json={"ids": [one.id, two.id], "patch": {"status": "pending"}}
    )
    assert (again.json()["changed"], again.json()["unchanged"]) == ([], [one.id, two.id])
    assert len(await events(core, "ticket.updated")) == before + 2  # nothing to change: no event


async def test_a_bulk_solve_credits_the_agent_as_each_single_solve_does(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice = await browser("alice")
    one, two = await opened(core, cast, "One"), await opened(core, cast, "Two")
    bob = cast.users["bob"]
    await do_update_ticket(core, cast.workspace_id, two.id, TicketPatch(assignee_id=bob.id))

    answer = await alice.api(
        "POST", "/tickets/bulk", json={"ids": [one.id, two.id], "patch": {"status": "solved"}}
    )

    assert answer.json()["changed"] == [one.id, two.id]
    listed = (await alice.api("GET", "/tickets", params={"status": "solved"})).json()["items"]
    assignees = {t["id"]: t["assignee_id"] for t in listed}
    assert assignees == {one.id: cast.users["alice"].id, two.id: bob.id}
    assert {t["resolutions"] for t in listed} == {1}


async def test_bulk_input_is_refused_naming_the_field_before_anything_is_written(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice, mary = await browser("alice"), await browser("mary")
    ticket = await opened(core, cast, "One")
    bad = {
        "ids": ({"ids": {"$gt": ""}, "patch": {"status": "open"}}, "ids"),
        "ids.0": ({"ids": [{"$ne": None}], "patch": {"status": "open"}}, "ids.0"),
        "empty": ({"ids": [], "patch": {"status": "open"}}, "ids"),
        "too many": ({"ids": [ticket.id] * 101, "patch": {"status": "open"}}, "ids"),
        "too long": ({"ids": ["x" * 65], "patch": {"status": "open"}}, "ids.0"),
        "no change": ({"ids": [ticket.id], "patch": {}}, "patch"),
        "a null": ({"ids": [ticket.id], "patch": {"status": None}}, "patch.status"),
        "unknown status": ({"ids": [ticket.id], "patch": {"status": "gone"}}, "patch.status"),
        "a marketer": (
            {"ids": [ticket.id], "patch": {"assignee_id": cast.users["mary"].id}},
            "patch.assignee_id",
        ),
        "no team": ({"ids": [ticket.id], "patch": {"team_id": "nope"}}, "patch.team_id"),
        "extra": ({"ids": [ticket.id], "patch": {"status": "open"}, "where": {}}, "where"),
    }
    for case, (body, field) in bad.items():
        answer = await alice.api("POST", "/tickets/bulk", json=body)
        assert answer.status_code == 422, (case, answer.text)
        assert answer.json()["error"]["field"] == field, (case, answer.json())
    both = {"ids": [ticket.id], "patch": {"assignee_id": "nope", "team_id": "nope"}}
    fields = (await alice.api("POST", "/tickets/bulk", json=both)).json()["error"]["fields"]
    assert [f["field"] for f in fields] == ["patch.assignee_id", "patch.team_id"]
    marketer = await mary.api(
        "POST", "/tickets/bulk", json={"ids": [ticket.id], "patch": {"status": "open"}}
    )
    assert marketer.status_code == 403
    assert await stored_status(core, ticket) == "new"
    assert await events(core, "ticket.updated") == []


async def test_the_token_api_changes_any_ticket_of_the_workspace(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: Any,
) -> None:
    shop, help_ = await opened(core, cast, "Shop"), await opened(core, cast, "Help", "help")
    answer = await token_api.post(
        "/tickets/bulk", json={"ids": [shop.id, help_.id], "patch": {"priority": "urgent"}}
    )
    assert answer.json() == {"changed": [shop.id, help_.id], "unchanged": [], "refused": []}
    listed = (await token_api.get("/tickets", params={"priority": "urgent"})).json()["items"]
    assert sorted(t["id"] for t in listed) == sorted([shop.id, help_.id])


async def test_each_listed_ticket_names_its_customer_as_the_reader_may_see_them(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    admin, alice = await browser("admin"), await browser("alice")
    ada, grace = await opened(core, cast, "Ada's"), await opened(core, cast, "Grace's", "help")
    sales = cast.users["sales"].id
    # Grace's ticket handed to Sales: Alice sees it, but Grace talks only to Support's channel,
    # whose contacts Alice may not read: she goes by "Customer 7F3A" there, as on its page.
    await do_update_ticket(core, cast.workspace_id, grace.id, TicketPatch(team_id=sales))

    listed = (await admin.api("GET", "/tickets")).json()["items"]
    assert {t["subject"]: t["customer"] for t in listed} == {
        "Ada's": {"id": ada.customer_id, "name": "Ada Lovelace"},
        "Grace's": {"id": grace.customer_id, "name": "Grace Hopper"},
    }
    seen = (await alice.api("GET", "/tickets")).json()["items"]
    assert {t["subject"]: t["customer"] for t in seen} == {
        "Ada's": {"id": ada.customer_id, "name": "Ada Lovelace"},
        "Grace's": {"id": grace.customer_id, "name": None},
    }
    refused = await alice.api("GET", f"/contacts/{grace.customer_id}")
    assert refused.status_code in (403, 404)  # the rule the list follows
