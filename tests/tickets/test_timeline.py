"""A ticket's notes and timeline through both APIs (oldest first, cursor pages, seen only by
those who see the ticket), the workspace's ticket settings (validated, admins only in the web
app), and the inbox's question "which tickets has this conversation?"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.pipeline import ingest
from kith.tickets.feature import feature
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


async def test_the_timeline_merges_events_notes_and_messages_oldest_first(
    core: Core,
    cast: Cast,  # noqa: F811
    clock: ManualClock,
    token_api: httpx.AsyncClient,
) -> None:
    clock.advance(60)
    made = await token_api.post(
        "/tickets", json={"subject": "Order missing", "conversation_id": cast.conversations["shop"]}
    )
    assert made.status_code == 201, made.text
    ticket_id = made.json()["id"]
    clock.advance(60)
    note = await token_api.post(f"/tickets/{ticket_id}/notes", json={"text": "Called the courier"})
    assert note.status_code == 201, note.text
    clock.advance(60)
    await ingest(core, cast.shop, inbound(cast.shop, "ada", "Any news?"))
    clock.advance(60)
    moved = await token_api.patch(f"/tickets/{ticket_id}", json={"status": "pending"})
    assert moved.status_code == 200
    clock.advance(60)
    await token_api.patch(f"/tickets/{ticket_id}", json={"priority": "urgent"})

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await token_api.get(f"/tickets/{ticket_id}/timeline", params=params)).json()
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    described = [(i["kind"], i.get("type") or i.get("text")) for i in seen]
    # "Where is my order?" came before the ticket: not on its timeline.
    assert described == [
        ("event", "ticket.created"),
        ("note", "Called the courier"),
        ("message", "Any news?"),
        ("event", "ticket.updated"),
        ("event", "ticket.updated"),
    ]
    assert [i["at"] for i in seen] == sorted(i["at"] for i in seen)
    assert seen[1]["author"] == {"kind": "system", "id": None, "name": "api"}
    assert seen[2]["author"]["kind"] == "customer"
    # A move is one entry, its `ticket.updated` naming the statuses (`ticket.status_changed`,
    # recorded for the SLA clocks and the survey, would say it a second time).
    assert seen[3]["data"]["changes"] == {"status": {"from": "new", "to": "pending"}}
    assert seen[4]["data"]["changes"] == {"priority": {"from": "normal", "to": "urgent"}}
    added = await core.store.events.find_one({"type": "ticket.note_added"})
    assert added is not None and added["data"]["note_id"] == note.json()["id"]
    bad = await token_api.get(f"/tickets/{ticket_id}/timeline", params={"cursor": "nope"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "cursor")


async def test_notes_and_the_timeline_are_seen_only_by_those_who_see_the_ticket(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice, bob, mary = await browser("alice"), await browser("bob"), await browser("mary")
    made = await alice.api(
        "POST",
        "/tickets",
        json={"subject": "Where is it", "conversation_id": cast.conversations["shop"]},
    )
    ticket = made.json()
    await alice.api("PATCH", f"/tickets/{ticket['id']}", json={"team_id": cast.users["sales"].id})
    noted = await alice.api("POST", f"/tickets/{ticket['id']}/notes", json={"text": "On it"})
    assert noted.status_code == 201, noted.text
    assert noted.json()["author"]["name"] == "Alice"
    assert (await bob.api("GET", f"/tickets/{ticket['id']}/timeline")).status_code == 404
    refused = await bob.api("POST", f"/tickets/{ticket['id']}/notes", json={"text": "Hi"})
    assert refused.status_code == 404
    assert (await mary.api("GET", f"/tickets/{ticket['id']}/timeline")).status_code == 200
    marketer = await mary.api("POST", f"/tickets/{ticket['id']}/notes", json={"text": "Hi"})
    assert marketer.status_code == 403
    blank = await alice.api("POST", f"/tickets/{ticket['id']}/notes", json={"text": "  "})
    assert (blank.status_code, blank.json()["error"]["field"]) == (422, "text")
    items = (await alice.api("GET", f"/tickets/{ticket['id']}/timeline")).json()["items"]
    assert [i["text"] for i in items if i["kind"] == "note"] == ["On it"]


async def test_the_inbox_lists_a_conversations_tickets_after_one_click(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice = await browser("alice")
    conversation_id = cast.conversations["shop"]
    made = await alice.api(
        "POST", "/tickets", json={"subject": "Order missing", "conversation_id": conversation_id}
    )
    assert made.status_code == 201, made.text
    assert made.json()["description"] == "> Where is my order?"
    listed = await alice.api("GET", "/tickets", params={"conversation_id": conversation_id})
    assert [t["id"] for t in listed.json()["items"]] == [made.json()["id"]]
    other = await alice.api(
        "GET", "/tickets", params={"conversation_id": cast.conversations["help"]}
    )
    assert other.json()["items"] == []
    panel = await alice.api("GET", f"/customers/{made.json()['customer_id']}")
    assert [t["number"] for t in panel.json()["tickets"]] == [made.json()["number"]]


async def test_settings_are_validated_and_only_admins_change_them_in_the_app(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
    token_api: httpx.AsyncClient,
) -> None:
    defaults = (await token_api.get("/tickets/settings")).json()
    assert defaults["reopen_days"] == 7
    assert defaults["keywords"] == ["refund", "complaint", "投诉", "退款", "退货"]
    changed = await token_api.put(
        "/tickets/settings",
        json={"reopen_days": 3, "keywords": ["Refund", "refund", "退款"], "waiting_enabled": False},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["keywords"] == ["refund", "退款"]
    assert (await token_api.get("/tickets/settings")).json()["reopen_days"] == 3
    for body, field in (
        ({"reopen_days": -1}, "reopen_days"),
        ({"waiting_minutes": 0}, "waiting_minutes"),
        ({"keywords": [""]}, "keywords"),
        ({"language": "fr"}, "language"),
        ({"regex": ".*"}, "regex"),
    ):
        refused = await token_api.put("/tickets/settings", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["field"].startswith(field), refused.json()

    admin, alice = await browser("admin"), await browser("alice")
    assert (await alice.api("GET", "/tickets/settings")).status_code == 403
    assert (await alice.api("PUT", "/tickets/settings", json={})).status_code == 403
    saved = await admin.api("PUT", "/tickets/settings", json={"language": "zh"})
    assert (saved.status_code, saved.json()["language"]) == (200, "zh")
    assert (await admin.api("GET", "/tickets/settings")).json()["reopen_days"] == 7
