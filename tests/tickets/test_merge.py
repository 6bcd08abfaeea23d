"""Merging a duplicate ticket into another: the target gains its conversations and tags once,
the duplicate is closed (a system move past the allowed moves) with `merged_into` and its SLA
clocks stopped, both timelines say so; a retry answers the same and writes nothing twice; of
two merges racing on one duplicate only one wins; and every refusal names its field."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.features import install
from kith.core.pipeline import ingest
from kith.tickets.actions import do_create_ticket, do_move_ticket, do_update_ticket
from kith.tickets.feature import feature
from kith.tickets.merge import do_merge_ticket
from kith.tickets.models import Priority, Status, Ticket, TicketIn, TicketPatch
from kith.tickets.sla_models import PolicyIn, Targets
from kith.tickets.sla_store import save_policy
from kith.tickets.sla_worker import SlaWorker
from kith.tickets.store import get_ticket
from tests.support.cast import inbound
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)

HOUR = 3600.0


@pytest.fixture(autouse=True)
async def with_tickets(core: Core) -> None:
    install(core, [feature(core)])
    await core.start()  # the tickets' indexes too


async def ticket(
    core: Core,
    cast: Cast,  # noqa: F811
    conversation_id: str,
    subject: str = "Broken",
    tags: tuple[str, ...] = (),
) -> Ticket:
    body = TicketIn(subject=subject, conversation_id=conversation_id, tags=list(tags))
    return await do_create_ticket(core, cast.workspace_id, body)


async def adas_second_conversation(core: Core, cast: Cast) -> str:  # noqa: F811
    """Ada writes again on another thread of the shop: a second conversation of hers."""
    said = inbound(cast.shop, "ada", "Did you get my mail?", thread="again")
    return (await ingest(core, cast.shop, said)).conversation.id


async def events(core: Core, ticket_id: str, type: str) -> list[dict[str, Any]]:
    query = {"data.ticket_id": ticket_id, "type": type}
    return await core.store.events.find(query).to_list(None)


async def test_the_target_gains_conversations_and_tags_and_the_duplicate_is_closed(
    core: Core,
    cast: Cast,  # noqa: F811
    http: httpx.AsyncClient,
) -> None:
    shop, again = cast.conversations["shop"], await adas_second_conversation(core, cast)
    duplicate = await ticket(core, cast, again, "Mail?", ("refund", "vip"))
    target = await ticket(core, cast, shop, "Order missing", ("vip",))
    assert duplicate.status == Status.new  # new → closed is no move an agent may make

    merged = await http.post(f"/api/v1/tickets/{duplicate.id}/merge", json={"into": "#2"})
    assert merged.status_code == 200, merged.text
    answer = merged.json()
    assert answer["ticket"]["id"] == duplicate.id
    assert (answer["ticket"]["status"], answer["ticket"]["merged_into"]) == ("closed", target.id)
    assert answer["ticket"]["merged_into_number"] == target.number
    assert answer["into"]["conversation_ids"] == [shop, again]  # each once
    assert answer["into"]["tags"] == ["vip", "refund"]
    assert answer["into"]["status"] == "new" and answer["into"]["merged_into"] is None

    # Each timeline says so, once.
    source_line = await http.get(f"/api/v1/tickets/{duplicate.id}/timeline")
    [said] = [i for i in source_line.json()["items"] if i["type"] == "ticket.merged"]
    assert (said["data"]["into_id"], said["data"]["into_number"]) == (target.id, 2)
    target_line = await http.get(f"/api/v1/tickets/{target.id}/timeline")
    [got] = [i for i in target_line.json()["items"] if i["type"] == "ticket.merged_in"]
    assert (got["data"]["from_id"], got["data"]["from_number"]) == (duplicate.id, 1)
    assert got["data"]["conversation_ids"] == [again]
    [moved] = await events(core, duplicate.id, "ticket.status_changed")
    assert (moved["data"]["from"], moved["data"]["to"]) == ("new", "closed")

    # A retry (by id this time) answers the same and writes nothing twice.
    written = await core.store.events.count_documents({})
    again_answer = await http.post(
        f"/api/v1/tickets/{duplicate.id}/merge", json={"into": target.id}
    )
    assert again_answer.status_code == 200, again_answer.text
    assert again_answer.json() == answer
    assert await core.store.events.count_documents({}) == written


async def test_the_duplicates_sla_clocks_stop(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
) -> None:
    policy = PolicyIn.model_validate(
        {"name": "Standard", "default": True, "targets": {"normal": Targets(first_reply=60)}}
    )
    await save_policy(core, cast.workspace_id, policy)
    duplicate = await ticket(core, cast, await adas_second_conversation(core, cast))
    target = await ticket(core, cast, cast.conversations["shop"])
    assert duplicate.sla is not None and duplicate.sla_next_at is not None
    await do_merge_ticket(core, cast.workspace_id, duplicate.id, str(target.number))
    closed = await get_ticket(core, cast.workspace_id, duplicate.id)
    assert closed.sla is not None and closed.sla_next_at is None
    assert not any(c.active for c in closed.sla.metrics.values())
    clock.advance(2 * HOUR)  # past the first reply's due moment
    assert await SlaWorker(core, "w1").run_once() == 1  # the target's breach, not the duplicate's
    assert await events(core, duplicate.id, "ticket.sla_breached") == []
    assert len(await events(core, target.id, "ticket.sla_breached")) == 1


async def test_a_merged_duplicate_is_left_out_of_the_sla_report(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    http: httpx.AsyncClient,
) -> None:
    policy = PolicyIn.model_validate(
        {"name": "Standard", "default": True, "targets": {"normal": Targets(resolution=60)}}
    )
    await save_policy(core, cast.workspace_id, policy)
    duplicate = await ticket(core, cast, await adas_second_conversation(core, cast))
    target = await ticket(core, cast, cast.conversations["shop"])
    await do_merge_ticket(core, cast.workspace_id, duplicate.id, target.id)  # no resolution
    day = clock.now().date().isoformat()
    period = {"from": f"{day}T00:00:00Z", "to": f"{day}T23:59:59Z"}
    report = (await http.get("/api/v1/sla/report", params=period)).json()
    [row] = report["by_policy"]
    assert row["tickets"] == 1  # the target alone
    assert row["metrics"]["resolution"] == {"met": 0, "missed": 0, "percent": None}


async def test_a_solved_duplicate_is_closed_too(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    duplicate = await ticket(core, cast, await adas_second_conversation(core, cast))
    target = await ticket(core, cast, cast.conversations["shop"])
    await do_move_ticket(core, cast.workspace_id, duplicate.id, Status.solved)
    merge = await do_merge_ticket(core, cast.workspace_id, duplicate.id, target.id)
    assert (merge.ticket.status, merge.ticket.merged_into) == (Status.closed, target.id)
    [moved] = [
        e
        for e in await events(core, duplicate.id, "ticket.status_changed")
        if e["data"]["to"] == "closed"
    ]
    assert moved["data"]["from"] == "solved"


async def test_two_merges_racing_on_one_duplicate_do_not_both_win(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    again = await adas_second_conversation(core, cast)
    duplicate = await ticket(core, cast, again)
    one = await ticket(core, cast, cast.conversations["shop"])
    two = await ticket(core, cast, cast.conversations["shop"])
    # Both read the duplicate before either writes: the second claim finds it changed.
    read = await get_ticket(core, cast.workspace_id, duplicate.id)
    results = await asyncio.gather(
        do_merge_ticket(core, cast.workspace_id, duplicate.id, one.id, ticket=read),
        do_merge_ticket(core, cast.workspace_id, duplicate.id, two.id, ticket=read),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], Conflict) and lost[0].field == "ticket_id"
    assert lost[0].reason == "ticket_merged"
    winner = won[0].into.id
    loser = two.id if winner == one.id else one.id
    assert (await get_ticket(core, cast.workspace_id, duplicate.id)).merged_into == winner
    assert again not in (await get_ticket(core, cast.workspace_id, loser)).conversation_ids
    assert await events(core, loser, "ticket.merged_in") == []


async def test_refusals_name_their_field(
    core: Core,
    cast: Cast,  # noqa: F811
    http: httpx.AsyncClient,
) -> None:
    duplicate = await ticket(core, cast, await adas_second_conversation(core, cast))
    target = await ticket(core, cast, cast.conversations["shop"])
    graces = await ticket(core, cast, cast.conversations["help"])
    closed = await ticket(core, cast, cast.conversations["shop"])
    await do_move_ticket(core, cast.workspace_id, closed.id, Status.solved)
    await do_move_ticket(core, cast.workspace_id, closed.id, Status.closed)

    async def refused(ticket_id: str, body: Any) -> tuple[int, str, str | None]:
        answer = await http.post(f"/api/v1/tickets/{ticket_id}/merge", json=body)
        error = answer.json()["error"]
        return answer.status_code, error["field"], error.get("reason")

    assert await refused(duplicate.id, {"into": duplicate.id}) == (422, "into", "merge_self")
    assert await refused(duplicate.id, {"into": f"#{duplicate.number}"}) == (
        422,
        "into",
        "merge_self",
    )
    assert await refused(duplicate.id, {"into": graces.id}) == (422, "into", "merge_other_customer")
    assert await refused(duplicate.id, {"into": closed.id}) == (422, "into", "merge_closed")
    assert await refused(duplicate.id, {"into": "#999"}) == (404, "into", None)
    assert await refused(duplicate.id, {"into": "nothex"}) == (404, "into", None)
    assert await refused("nothex", {"into": target.id}) == (404, "ticket_id", None)
    assert await refused(closed.id, {"into": target.id}) == (
        422,
        "ticket_id",
        "merge_source_closed",
    )
    assert (await refused(duplicate.id, {}))[:2] == (422, "into")
    assert (await refused(duplicate.id, {"into": target.id, "x": 1}))[:2] == (422, "x")
    assert (await refused(duplicate.id, {"into": {"$gt": ""}}))[:2] == (422, "into")

    # Merged, it neither merges again elsewhere nor receives.
    done = await http.post(f"/api/v1/tickets/{duplicate.id}/merge", json={"into": target.id})
    assert done.status_code == 200, done.text
    other = await ticket(core, cast, cast.conversations["shop"])
    assert await refused(duplicate.id, {"into": other.id}) == (409, "ticket_id", "ticket_merged")
    assert await refused(other.id, {"into": duplicate.id}) == (422, "into", "merge_closed")


async def test_only_who_sees_both_tickets_and_may_write_merges(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    duplicate = await ticket(core, cast, await adas_second_conversation(core, cast))
    target = await ticket(core, cast, cast.conversations["shop"])
    bob, mary, alice = await browser("bob"), await browser("mary"), await browser("alice")
    path = f"/tickets/{duplicate.id}/merge"
    hidden = await bob.api("POST", path, json={"into": target.id})  # Support: Sales's tickets
    assert (hidden.status_code, hidden.json()["error"]["field"]) == (404, "ticket_id")
    assert (await mary.api("POST", path, json={"into": target.id})).status_code == 403
    done = await alice.api("POST", path, json={"into": f"#{target.number}"})
    assert done.status_code == 200, done.text
    [said] = await events(core, duplicate.id, "ticket.merged")
    assert (said["actor"]["kind"], said["actor"]["id"]) == ("agent", cast.users["alice"].id)


async def test_a_merged_duplicate_refuses_every_write_and_names_its_target(
    core: Core,
    cast: Cast,  # noqa: F811
    http: httpx.AsyncClient,
) -> None:
    """Zendesk's closed tickets take no update: a merged duplicate neither, each write 409 on
    `ticket_id` naming the ticket it lives on in; reads stay, and nothing is written."""
    duplicate = await ticket(core, cast, await adas_second_conversation(core, cast))
    target = await ticket(core, cast, cast.conversations["shop"])
    other = await ticket(core, cast, cast.conversations["shop"])
    third = inbound(cast.shop, "ada", "And another thing", thread="third")
    conversation = (await ingest(core, cast.shop, third)).conversation.id
    merged = await http.post(f"/api/v1/tickets/{duplicate.id}/merge", json={"into": target.id})
    assert merged.status_code == 200, merged.text
    path = f"/api/v1/tickets/{duplicate.id}"
    messages = await core.store.messages.count_documents({})
    written = await core.store.events.count_documents({})

    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/replies", {"text": "Hello again"}),
        ("POST", "/replies", {"text": "between us", "private": True}),
        ("POST", "/notes", {"text": "a note"}),
        ("PATCH", "", {"status": "open"}),  # reopened
        ("PATCH", "", {"priority": "urgent"}),
        ("PATCH", "", {"assignee_id": cast.users["alice"].id}),
        ("PATCH", "", {"tags": ["x"]}),
        ("POST", "/conversations", {"conversation_id": conversation}),
        ("POST", "/merge", {"into": other.id}),  # merged again, elsewhere
    ]
    for method, tail, body in writes:
        answer = await http.request(method, path + tail, json=body)
        assert answer.status_code == 409, (method, tail, answer.text)
        error = answer.json()["error"]
        assert (error["code"], error["field"], error["reason"]) == (
            "conflict",
            "ticket_id",
            "ticket_merged",
        ), (method, tail)
        assert error["limits"] == {"merged_into": target.id, "number": target.number}
        assert error["message"] == f"#{duplicate.number} is merged into #{target.number}: " + (
            "write on that ticket"
        )

    assert await core.store.messages.count_documents({}) == messages
    assert await core.store.events.count_documents({}) == written
    assert await core.store.collection("ticket_notes").count_documents({}) == 0
    still = await get_ticket(core, cast.workspace_id, duplicate.id)
    assert (still.status, still.priority, still.assignee_id) == (
        Status.closed,
        Priority.normal,
        None,
    )
    assert conversation not in still.conversation_ids
    # Reads stay; a retried merge into the same target still answers as it did.
    assert (await http.get(path)).status_code == 200
    assert (await http.get(path + "/timeline")).status_code == 200
    retried = await http.post(path + "/merge", json={"into": target.id})
    assert retried.status_code == 200, retried.text
    # The target still takes every write.
    noted = await http.post(f"/api/v1/tickets/{target.id}/notes", json={"text": "fine"})
    assert noted.status_code == 201, noted.text


async def test_a_change_read_before_the_merge_is_refused_as_merged(
    core: Core,
    cast: Cast,  # noqa: F811
) -> None:
    """A change that read the ticket before it was merged (a racing agent) is refused as
    merged, not applied to the closed duplicate nor called a mere change of status."""
    duplicate = await ticket(core, cast, await adas_second_conversation(core, cast))
    target = await ticket(core, cast, cast.conversations["shop"])
    stale = await get_ticket(core, cast.workspace_id, duplicate.id)
    await do_merge_ticket(core, cast.workspace_id, duplicate.id, target.id)
    refusals = []
    for patch in (TicketPatch(priority=Priority.high), TicketPatch(status=Status.open)):
        with pytest.raises(Conflict) as refused:
            await do_update_ticket(core, cast.workspace_id, duplicate.id, patch, ticket=stale)
        refusals.append((refused.value.field, refused.value.reason))
    assert refusals == [("ticket_id", "ticket_merged")] * 2
    assert (await get_ticket(core, cast.workspace_id, duplicate.id)).priority == Priority.normal
