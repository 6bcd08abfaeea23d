"""An agent who answers a conversation that nobody has takes it (as Chatwoot does by default),
through the Assignee control's own change: one `conversation.assigned` event, which tells the
open lists. A conversation already assigned stays with its assignee; a note, a bot's reply or
a message with no user behind it takes nothing; two agents answering at once do not both
become its assignee."""

from __future__ import annotations

import asyncio
from typing import Any

from kith.core.context import Core
from kith.core.conversations import do_assign_replier, get_conversation
from kith.core.models import Author, AuthorKind, OutboundContent
from kith.core.outbox import send
from tests.web.conftest import Cast


async def _assignee(core: Core, conversation_id: str) -> str | None:
    doc = await core.store.conversations.find_one({"_id": conversation_id})
    assert doc is not None
    return doc.get("assignee_id")


async def _assigned_events(core: Core, conversation_id: str) -> list[dict[str, Any]]:
    found = core.store.events.find(
        {"conversation_id": conversation_id, "type": "conversation.assigned"}
    )
    return await found.to_list(None)


async def test_an_agents_reply_to_an_unassigned_conversation_assigns_it_to_them(
    cast: Cast, browser, core: Core
) -> None:
    alice = await browser("alice")
    shop = cast.conversations["shop"]
    sent = await alice.api("POST", f"/conversations/{shop}/messages", json={"text": "On its way"})
    assert sent.status_code == 201, sent.text
    alice_id = cast.users["alice"].id
    assert await _assignee(core, shop) == alice_id
    [event] = await _assigned_events(core, shop)
    assert event["data"] == {"assignee_id": alice_id}
    assert event["actor"]["id"] == alice_id and event["actor"]["kind"] == "agent"
    mine = (await alice.api("GET", "/conversations", params={"view": "mine"})).json()
    assert [c["id"] for c in mine["items"]] == [shop]
    # Answering again changes nothing: it is hers already.
    await alice.api("POST", f"/conversations/{shop}/messages", json={"text": "Tomorrow"})
    assert len(await _assigned_events(core, shop)) == 1


async def test_a_conversation_assigned_to_someone_else_stays_theirs(
    cast: Cast, browser, core: Core
) -> None:
    admin, alice = await browser("admin"), await browser("alice")
    shop = cast.conversations["shop"]
    admin_id = cast.users["admin"].id
    await admin.api("PATCH", f"/conversations/{shop}", json={"assignee_id": admin_id})
    sent = await alice.api("POST", f"/conversations/{shop}/messages", json={"text": "On its way"})
    assert sent.status_code == 201, sent.text
    assert await _assignee(core, shop) == admin_id
    assert len(await _assigned_events(core, shop)) == 1  # the admin's own


async def test_a_private_note_takes_nothing(cast: Cast, browser, core: Core) -> None:
    alice = await browser("alice")
    shop = cast.conversations["shop"]
    note = {"text": "checking the depot", "private": True}
    sent = await alice.api("POST", f"/conversations/{shop}/messages", json=note)
    assert sent.status_code == 201, sent.text
    assert await _assignee(core, shop) is None
    assert await _assigned_events(core, shop) == []


async def test_a_bots_reply_or_one_with_no_user_takes_nothing(cast: Cast, core: Core) -> None:
    shop = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    for author in (
        Author(kind=AuthorKind.bot, name="Kithy"),
        Author(kind=AuthorKind.system),
        Author(kind=AuthorKind.agent, id=None, name="API"),  # an API token's reply
    ):
        message = await send(core, shop, OutboundContent(text="Hello"), author)
        assert await do_assign_replier(core, shop, message) == shop
    assert await _assignee(core, shop.id) is None
    assert await _assigned_events(core, shop.id) == []


async def test_two_agents_answering_at_once_give_it_to_one(cast: Cast, browser, core: Core) -> None:
    admin, alice = await browser("admin"), await browser("alice")
    shop = cast.conversations["shop"]
    answers = await asyncio.gather(
        *(
            who.api("POST", f"/conversations/{shop}/messages", json={"text": "Hi"})
            for who in (admin, alice)
        )
    )
    assert [a.status_code for a in answers] == [201, 201]
    [event] = await _assigned_events(core, shop)
    assert await _assignee(core, shop) == event["data"]["assignee_id"] == event["actor"]["id"]


async def test_a_reply_on_a_stale_copy_leaves_the_newer_assignee(
    cast: Cast, browser, core: Core
) -> None:
    """The race in slow motion: Alice's reply was written from a copy read before the admin
    took the conversation. Her reply does not take it from him."""
    shop = cast.conversations["shop"]
    stale = await get_conversation(core, cast.workspace_id, shop)
    admin = await browser("admin")
    admin_id = cast.users["admin"].id
    await admin.api("PATCH", f"/conversations/{shop}", json={"assignee_id": admin_id})
    alice = Author(kind=AuthorKind.agent, id=cast.users["alice"].id, name="Alice")
    message = await send(core, stale, OutboundContent(text="On its way"), alice)
    kept = await do_assign_replier(core, stale, message)
    assert kept.assignee_id == admin_id
    assert await _assignee(core, shop) == admin_id
    assert len(await _assigned_events(core, shop)) == 1
