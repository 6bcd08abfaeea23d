"""Each agent has their own unread count, as in Chatwoot: one agent reading a conversation
clears their marker, not their colleagues' (the inbox used to clear it for everyone).
Resolving clears it for all; the API keeps the team's count ("no one has read these")."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.pipeline import ingest
from tests.support.cast import inbound
from tests.web.conftest import Browser, Cast


async def unread(session: Browser, conversation_id: str) -> int:
    answer = await session.api("GET", "/conversations", params={"status": "any"})
    assert answer.status_code == 200, answer.text
    [conv] = [c for c in answer.json()["items"] if c["id"] == conversation_id]
    return int(conv["unread_count"])


async def customer_writes(core: Core, cast: Cast, text: str) -> None:
    await ingest(core, cast.shop, inbound(cast.shop, "ada", text))


async def test_one_agent_reading_leaves_the_others_marker(cast: Cast, browser, core: Core) -> None:
    alice, admin = await browser("alice"), await browser("admin")
    shop = cast.conversations["shop"]
    await customer_writes(core, cast, "Hello?")
    assert (await unread(alice, shop), await unread(admin, shop)) == (2, 2)

    assert (await alice.api("POST", f"/conversations/{shop}/read")).status_code == 200
    assert (await unread(alice, shop), await unread(admin, shop)) == (0, 2)
    await customer_writes(core, cast, "Anyone there?")
    assert (await unread(alice, shop), await unread(admin, shop)) == (1, 3)

    opened = await admin.api("GET", f"/conversations/{shop}")
    assert opened.json()["conversation"]["unread_count"] == 3  # the view says it as the list does
    await admin.api("POST", f"/conversations/{shop}/read")
    assert (await unread(alice, shop), await unread(admin, shop)) == (1, 0)

    resolved = await alice.api("PATCH", f"/conversations/{shop}", json={"status": "resolved"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["unread_count"] == 0
    assert (await unread(alice, shop), await unread(admin, shop)) == (0, 0)
    await customer_writes(core, cast, "One more thing")  # reopens it
    assert (await unread(alice, shop), await unread(admin, shop)) == (1, 1)


async def test_reading_twice_records_one_event_per_reader(cast: Cast, browser, core: Core) -> None:
    alice, admin = await browser("alice"), await browser("admin")
    shop = cast.conversations["shop"]
    for session in (alice, alice, admin):
        await session.api("POST", f"/conversations/{shop}/read")
    events = await core.store.events.find({"type": "conversation.read"}).to_list(None)
    readers = [(e["actor"]["id"], e["data"]["user_id"]) for e in events]
    assert readers == [(cast.users[n].id, cast.users[n].id) for n in ("alice", "admin")]


async def test_the_api_keeps_the_teams_count_and_shows_no_marks(
    cast: Cast, browser, core: Core
) -> None:
    alice = await browser("alice")
    shop = cast.conversations["shop"]
    stored = await core.store.conversations.find_one({"_id": shop})
    assert stored is not None and stored["inbound_count"] == 1
    await alice.api("POST", f"/conversations/{shop}/read")
    stored = await core.store.conversations.find_one({"_id": shop})
    assert stored["unread_count"] == 0 and stored["read_marks"] == {cast.users["alice"].id: 1}
    seen = await alice.api("GET", f"/conversations/{shop}")
    assert not {"inbound_count", "read_marks", "read_floor"} & set(seen.json()["conversation"])


async def test_a_conversation_from_before_keeps_the_teams_count(
    cast: Cast, browser, core: Core
) -> None:
    """Stored before per-agent counts: no `inbound_count`, so everyone sees the team's count
    until its next message."""
    alice, admin = await browser("alice"), await browser("admin")
    shop = cast.conversations["shop"]
    await core.store.conversations.update_one(
        {"_id": shop}, {"$unset": {"inbound_count": ""}, "$set": {"unread_count": 4}}
    )
    assert (await unread(alice, shop), await unread(admin, shop)) == (4, 4)
    await customer_writes(core, cast, "Still waiting")
    assert (await unread(alice, shop), await unread(admin, shop)) == (1, 1)
