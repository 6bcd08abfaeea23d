"""Tickets stored before they had search terms are found once `kith search reindex` has run
(the tickets feature declares its collection searchable: `Feature.searchable`)."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.features import install
from kith.core.search import reindex
from kith.tickets.actions import do_create_ticket
from kith.tickets.feature import feature
from kith.tickets.models import TicketIn
from kith.tickets.queries import TicketFilter, list_tickets
from kith.tickets.store import tickets
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


async def found(core: Core, workspace_id: str, q: str) -> list[int]:
    listed, _ = await list_tickets(
        core, workspace_id, None, TicketFilter(q=q), cursor=None, limit=10
    )
    return [t.number for t in listed]


async def test_old_tickets_get_their_terms_and_are_found(core: Core, cast: Cast) -> None:  # noqa: F811
    install(core, [feature(core)])
    body = TicketIn(
        subject="Kettle lid cracked",
        description="水壶盖子裂了",
        conversation_id=cast.conversations["shop"],
    )
    ticket = await do_create_ticket(core, cast.workspace_id, body)
    await tickets(core).update_one({"_id": ticket.id}, {"$unset": {"terms": ""}})  # as once
    assert await found(core, cast.workspace_id, "cracked") == []

    counts = await reindex(core)

    assert counts["tickets"] == 1
    assert await found(core, cast.workspace_id, "cracked") == [ticket.number]
    assert await found(core, cast.workspace_id, "盖子") == [ticket.number]
    assert (await reindex(core)).get("tickets", 0) == 0  # nothing left to do
