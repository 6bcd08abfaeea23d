"""Every permission rule of the inbox API, one test each.

alice is an agent in Sales (channel Shop), bob in Support (channel Help desk), mary a
marketer, admin an admin. `shop` and `help` are one conversation on each channel.
"""

from __future__ import annotations

from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.models import User
from tests.web.conftest import PASSWORD, Cast


async def ids(session, **params) -> set[str]:
    answer = await session.api("GET", "/conversations", params={"status": "any", **params})
    assert answer.status_code == 200, answer.text
    return {c["id"] for c in answer.json()["items"]}


async def test_an_agent_lists_only_their_teams_conversations(cast: Cast, browser) -> None:
    alice, bob = await browser("alice"), await browser("bob")
    assert await ids(alice) == {cast.conversations["shop"]}
    assert await ids(bob) == {cast.conversations["help"]}


async def test_an_agent_guessing_another_teams_id_gets_403(cast: Cast, browser) -> None:
    alice = await browser("alice")
    other = cast.conversations["help"]
    for method, path, body in (
        ("GET", f"/conversations/{other}", None),
        ("PATCH", f"/conversations/{other}", {"status": "resolved"}),
        ("POST", f"/conversations/{other}/messages", {"text": "hi"}),
        ("POST", f"/conversations/{other}/read", None),
        ("GET", f"/conversations/{other}/presence", None),
        ("POST", f"/conversations/{other}/presence", {"state": "viewing"}),
    ):
        answer = await alice.api(method, path, json=body)
        assert answer.status_code == 403, (method, path, answer.text)


async def test_an_unknown_id_is_404_not_403(cast: Cast, browser) -> None:
    alice = await browser("alice")
    assert (await alice.api("GET", "/conversations/nope")).status_code == 404


async def test_an_agent_cannot_see_another_teams_customer(cast: Cast, browser, core: Core):
    alice = await browser("alice")
    doc = await core.store.conversations.find_one({"_id": cast.conversations["help"]})
    answer = await alice.api("GET", f"/customers/{doc['customer_id']}")
    assert answer.status_code == 403
    tags = await alice.api("PUT", f"/customers/{doc['customer_id']}/tags", json={"tags": ["x"]})
    assert tags.status_code == 403


async def test_an_agent_cannot_retry_another_teams_message(cast: Cast, browser, core: Core):
    bob = await browser("bob")
    sent = await bob.api(
        "POST", f"/conversations/{cast.conversations['help']}/messages", json={"text": "ok"}
    )
    await core.store.messages.update_one(
        {"_id": sent.json()["id"]}, {"$set": {"delivery.status": "failed"}}
    )
    alice = await browser("alice")
    assert (await alice.api("POST", f"/messages/{sent.json()['id']}/retry")).status_code == 403
    assert (await bob.api("POST", f"/messages/{sent.json()['id']}/retry")).status_code == 200


async def test_handing_to_a_team_opens_the_conversation_to_that_team(cast: Cast, browser):
    bob, alice = await browser("bob"), await browser("alice")
    conv = cast.conversations["help"]
    sales = cast.users["sales"].id
    assert (
        await bob.api("PATCH", f"/conversations/{conv}", json={"team_id": sales})
    ).status_code == 200
    assert conv in await ids(alice)
    assert (await alice.api("GET", f"/conversations/{conv}")).status_code == 200


async def test_a_marketer_reads_every_conversation(cast: Cast, browser) -> None:
    mary = await browser("mary")
    assert await ids(mary) == set(cast.conversations.values())
    view = await mary.api("GET", f"/conversations/{cast.conversations['shop']}")
    assert view.status_code == 200 and view.json()["can_write"] is False


async def test_a_marketer_cannot_reply_note_or_change(cast: Cast, browser) -> None:
    mary = await browser("mary")
    conv = cast.conversations["shop"]
    assert (
        await mary.api("POST", f"/conversations/{conv}/messages", json={"text": "hi"})
    ).status_code == 403
    note = {"text": "psst", "private": True}
    assert (await mary.api("POST", f"/conversations/{conv}/messages", json=note)).status_code == 403
    assert (
        await mary.api("PATCH", f"/conversations/{conv}", json={"status": "resolved"})
    ).status_code == 403
    assert (
        await mary.api("POST", "/canned", json={"shortcut": "x", "text": "y"})
    ).status_code == 403


async def test_a_marketer_edits_customer_tags(cast: Cast, browser, core: Core) -> None:
    mary = await browser("mary")
    doc = await core.store.conversations.find_one({"_id": cast.conversations["shop"]})
    answer = await mary.api("PUT", f"/customers/{doc['customer_id']}/tags", json={"tags": ["vip"]})
    assert answer.status_code == 200


async def test_an_admin_reads_and_changes_everything(cast: Cast, browser) -> None:
    admin = await browser("admin")
    assert await ids(admin) == set(cast.conversations.values())
    for conv in cast.conversations.values():
        answer = await admin.api("PATCH", f"/conversations/{conv}", json={"priority": "urgent"})
        assert answer.status_code == 200


async def test_only_an_admin_manages_users_and_teams(cast: Cast, browser) -> None:
    new_user = {"email": "carol@kith.test", "password": PASSWORD, "role": "agent"}
    for name in ("alice", "mary"):
        session = await browser(name)
        assert (await session.api("POST", "/users", json=new_user)).status_code == 403
        assert (await session.api("POST", "/teams", json={"name": "Ops"})).status_code == 403
        team = cast.users["sales"].id
        patch = {"add_member_ids": [cast.users["bob"].id]}
        assert (await session.api("PATCH", f"/teams/{team}", json=patch)).status_code == 403
    admin = await browser("admin")
    created = await admin.api(
        "POST", "/users", json={**new_user, "team_ids": [cast.users["sales"].id]}
    )
    assert created.status_code == 201 and "password_hash" not in created.text
    assert new_user["password"] not in created.text
    carol = await browser("carol")
    own = {"current_password": new_user["password"], "new_password": "carol's own secret"}
    assert (await carol.api("PUT", "/me/password", json=own)).status_code == 200
    assert await ids(carol) == {cast.conversations["shop"]}


async def test_the_event_stream_carries_only_the_agents_teams_events(
    cast: Cast, browser, core: Core
) -> None:
    from kith.core.permissions import scope_of
    from kith.web.inbox.events import Visibility

    alice = User.from_doc(await core.store.users.find_one({"_id": cast.users["alice"].id}))
    scope = await scope_of(core, alice)
    visible = Visibility(core, scope)
    for conv, expected in ((cast.conversations["shop"], True), (cast.conversations["help"], False)):
        event = build_event(core, cast.workspace_id, "x", conversation_id=conv)
        await record(core, event)
        assert await visible.allows(event) is expected
    workspace_wide = build_event(core, cast.workspace_id, "customer.merged")
    assert await visible.allows(workspace_wide) is False
    for conv, expected in ((cast.conversations["shop"], True), (cast.conversations["help"], False)):
        doc = await core.store.conversations.find_one({"_id": conv})
        tagged = build_event(
            core, cast.workspace_id, "customer.updated", customer_id=doc["customer_id"]
        )
        assert await visible.allows(tagged) is expected, "a customer's own event: as their panel"
