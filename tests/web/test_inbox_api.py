"""The inbox's JSON API: lists, views, replies, notes, changes, canned responses, panel."""

from __future__ import annotations

from kith.core.canned import create_canned
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, InboundUser, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from tests.support.callbacks import CallbackServer
from tests.support.cast import inbound
from tests.web.conftest import Cast


async def listed(session, **params) -> list[dict]:
    answer = await session.api("GET", "/conversations", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_views_mine_unassigned_and_all(cast: Cast, browser, core: Core) -> None:
    admin = await browser("admin")
    shop = cast.conversations["shop"]
    await admin.api("PATCH", f"/conversations/{shop}", json={"assignee_id": cast.users["admin"].id})
    assert [c["id"] for c in await listed(admin, view="mine")] == [shop]
    assert [c["id"] for c in await listed(admin, view="unassigned")] == [cast.conversations["help"]]
    assert len(await listed(admin, view="all")) == 2
    unassign = await admin.api("PATCH", f"/conversations/{shop}", json={"assignee_id": None})
    assert unassign.json()["assignee_id"] is None


async def test_filters(cast: Cast, browser, core: Core) -> None:
    admin = await browser("admin")
    shop, help_ = cast.conversations["shop"], cast.conversations["help"]
    await admin.api(
        "PATCH", f"/conversations/{shop}", json={"labels": ["billing"], "priority": "high"}
    )
    await admin.api("PATCH", f"/conversations/{help_}", json={"status": "resolved"})
    assert [c["id"] for c in await listed(admin)] == [shop]  # open by default
    assert [c["id"] for c in await listed(admin, status="resolved")] == [help_]
    assert len(await listed(admin, status="any")) == 2
    assert [c["id"] for c in await listed(admin, status="any", channel=cast.help.id)] == [help_]
    assert [c["id"] for c in await listed(admin, status="any", label="billing")] == [shop]
    assert [c["id"] for c in await listed(admin, status="any", priority="high")] == [shop]
    await core.store.conversations.update_one(
        {"_id": help_}, {"$set": {"sentiment": {"label": "negative", "score": -0.8}}}
    )
    assert [c["id"] for c in await listed(admin, status="any", sentiment="negative")] == [help_]
    assert await listed(admin, status="any", sentiment="positive") == []


async def test_search_over_customer_names_and_message_text(cast: Cast, browser) -> None:
    admin = await browser("admin")
    assert [c["id"] for c in await listed(admin, q="grace")] == [cast.conversations["help"]]
    found = await listed(admin, q="ORDER")
    assert [c["id"] for c in found] == [cast.conversations["shop"]]
    assert "order" in found[0]["matched"].lower()  # why it was found
    assert {c["matched"] for c in await listed(admin, q="grace")} == {None}  # by name alone
    assert await listed(admin, q="(.*") == []  # text, never a pattern


async def test_sort_by_activity_or_waiting_and_cursor_pages(
    cast: Cast, browser, core: Core, clock: ManualClock
) -> None:
    for i in range(5):
        clock.advance(60)
        user = InboundUser(id=f"u-{i}", name=f"Customer {i}")
        await ingest(core, cast.shop, inbound(cast.shop, user=user, text=f"hello {i}"))
    admin = await browser("admin")
    newest = [c["customer_name"] for c in await listed(admin, channel=cast.shop.id)]
    assert newest[:2] == ["Customer 4", "Customer 3"]
    waiting = [
        c["customer_name"] for c in await listed(admin, channel=cast.shop.id, sort="waiting")
    ]
    assert waiting == list(reversed(newest))
    first = await admin.api("GET", "/conversations", params={"limit": 2, "channel": cast.shop.id})
    second = await admin.api(
        "GET",
        "/conversations",
        params={"limit": 2, "channel": cast.shop.id, "cursor": first.json()["next_cursor"]},
    )
    assert [c["customer_name"] for c in first.json()["items"] + second.json()["items"]] == newest[
        :4
    ]


async def test_waiting_means_no_person_has_answered_yet(
    cast: Cast, browser, core: Core, clock: ManualClock
) -> None:
    alice = await browser("alice")
    shop = cast.conversations["shop"]
    first_asked = (await alice.api("GET", f"/conversations/{shop}")).json()["conversation"]
    assert first_asked["waiting_since"] is not None
    clock.advance(60)
    await ingest(core, cast.shop, inbound(cast.shop, "ada", "Hello??"))
    still = (await alice.api("GET", f"/conversations/{shop}")).json()["conversation"]
    assert still["waiting_since"] == first_asked["waiting_since"]  # the oldest unanswered
    note = {"text": "checking the depot", "private": True}
    await alice.api("POST", f"/conversations/{shop}/messages", json=note)
    assert [c["id"] for c in await listed(alice, sort="waiting")] == [shop]  # a note is no answer
    await alice.api("POST", f"/conversations/{shop}/messages", json={"text": "On its way"})
    assert await listed(alice, sort="waiting") == []
    assert [c["id"] for c in await listed(alice)] == [shop]  # still open, just answered
    clock.advance(60)
    await ingest(core, cast.shop, inbound(cast.shop, "ada", "Thanks, and the invoice?"))
    [again] = await listed(alice, sort="waiting")
    assert again["waiting_since"] > first_asked["waiting_since"]
    await alice.api("PATCH", f"/conversations/{shop}", json={"status": "resolved"})
    assert await listed(alice, sort="waiting", status="any") == []


async def test_a_bot_handing_over_starts_the_wait(cast: Cast, browser, core: Core, clock) -> None:
    from kith.core.conversations import do_update_conversation, get_conversation
    from kith.core.models import ConversationStatus

    shop = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    bot = Author(kind=AuthorKind.bot, name="Kithy")
    await send(core, shop, OutboundContent(text="Hi, I am a bot"), bot)
    shop = await do_update_conversation(core, shop, status=ConversationStatus.pending)
    clock.advance(300)
    handed = await do_update_conversation(core, shop, status=ConversationStatus.open, actor=bot)
    assert handed.waiting_since == clock.now()


async def test_reading_tells_the_other_agents(cast: Cast, browser, core: Core) -> None:
    alice = await browser("alice")
    shop = cast.conversations["shop"]
    await alice.api("POST", f"/conversations/{shop}/read")
    await alice.api("POST", f"/conversations/{shop}/read")  # nothing left to read: no event
    events = await core.store.events.find({"type": "conversation.read"}).to_list(None)
    assert [(e["conversation_id"], e["actor"]["id"]) for e in events] == [
        (shop, cast.users["alice"].id)
    ]


async def test_unread_markers_clear_when_an_agent_reads(cast: Cast, browser) -> None:
    alice = await browser("alice")
    [conv] = await listed(alice)
    assert conv["unread_count"] == 1
    assert (await alice.api("POST", f"/conversations/{conv['id']}/read")).status_code == 200
    [conv] = await listed(alice)
    assert conv["unread_count"] == 0


async def test_reply_goes_out_on_the_customers_channel_and_thread(
    cast: Cast, browser, core: Core, callbacks: CallbackServer
) -> None:
    alice = await browser("alice")
    conv = cast.conversations["shop"]
    sent = await alice.api("POST", f"/conversations/{conv}/messages", json={"text": "On its way!"})
    assert sent.status_code == 201 and sent.json()["delivery"]["status"] == "pending"
    assert sent.json()["author"] == {"kind": "agent", "id": cast.users["alice"].id, "name": "Alice"}
    await OutboxWorker(core).run_once()
    [callback] = callbacks.requests
    assert (
        callback.json()["user"]["id"] == "u-ada"
        and callback.json()["message"]["text"] == "On its way!"
    )
    view = (await alice.api("GET", f"/conversations/{conv}")).json()
    assert [m["delivery"]["status"] for m in view["messages"] if m["direction"] == "out"] == [
        "sent"
    ]


async def test_a_private_note_never_reaches_the_customer(
    cast: Cast, browser, core: Core, callbacks: CallbackServer
) -> None:
    alice = await browser("alice")
    conv = cast.conversations["shop"]
    note = await alice.api(
        "POST", f"/conversations/{conv}/messages", json={"text": "VIP, be nice", "private": True}
    )
    assert note.status_code == 201 and note.json()["private"] is True
    assert note.json()["delivery"] is None
    await OutboxWorker(core).run_once()
    assert callbacks.requests == []


async def test_a_failed_reply_can_be_retried(cast: Cast, browser, core: Core, callbacks) -> None:
    callbacks.fail_next(400)  # the integrator refuses: given up at once
    alice = await browser("alice")
    conv = cast.conversations["shop"]
    sent = (await alice.api("POST", f"/conversations/{conv}/messages", json={"text": "x"})).json()
    await OutboxWorker(core).run_once()
    view = (await alice.api("GET", f"/conversations/{conv}")).json()
    assert view["messages"][-1]["delivery"]["status"] == "failed"
    assert (await alice.api("POST", f"/messages/{sent['id']}/retry")).status_code == 200
    await OutboxWorker(core).run_once()
    view = (await alice.api("GET", f"/conversations/{conv}")).json()
    assert view["messages"][-1]["delivery"]["status"] == "sent"
    again = await alice.api("POST", f"/messages/{sent['id']}/retry")
    assert again.status_code == 422  # only failed messages


async def test_bot_and_system_messages_are_told_apart(cast: Cast, browser, core: Core) -> None:
    conversation = await core.store.conversations.find_one({"_id": cast.conversations["shop"]})
    from kith.core.models import Conversation

    conv = Conversation.from_doc(conversation)
    await send(
        core,
        conv,
        OutboundContent(text="Hi, I am a bot"),
        Author(kind=AuthorKind.bot, name="Kithy"),
    )
    alice = await browser("alice")
    view = (await alice.api("GET", f"/conversations/{conv.id}")).json()
    assert [m["author"]["kind"] for m in view["messages"]] == ["customer", "bot"]


async def test_status_snooze_labels_priority_and_team(cast: Cast, browser) -> None:
    alice = await browser("alice")
    conv = cast.conversations["shop"]
    no_time = await alice.api("PATCH", f"/conversations/{conv}", json={"status": "snoozed"})
    assert no_time.status_code == 422
    snoozed = await alice.api(
        "PATCH",
        f"/conversations/{conv}",
        json={"status": "snoozed", "snoozed_until": "2026-02-01T09:00:00Z"},
    )
    assert snoozed.json()["status"] == "snoozed" and snoozed.json()["snoozed_until"].startswith(
        "2026-02-01"
    )
    changed = await alice.api(
        "PATCH",
        f"/conversations/{conv}",
        json={"labels": ["refund", " vip "], "priority": "urgent", "status": "resolved"},
    )
    body = changed.json()
    assert body["labels"] == ["refund", "vip"] and body["priority"] == "urgent"
    assert body["status"] == "resolved"
    team = await alice.api(
        "PATCH", f"/conversations/{conv}", json={"team_id": cast.users["support"].id}
    )
    assert team.json()["team_id"] == cast.users["support"].id
    for field in ("team_id", "assignee_id"):  # the conversation exists: the body is wrong
        unknown = await alice.api("PATCH", f"/conversations/{conv}", json={field: "nope"})
        assert unknown.status_code == 422
        assert unknown.json()["error"]["field"] == field


async def test_canned_responses_by_shortcut_prefix(cast: Cast, browser, core: Core) -> None:
    alice = await browser("alice")
    made = await alice.api("POST", "/canned", json={"shortcut": "/thanks", "text": "Thank you!"})
    assert made.status_code == 201 and made.json()["shortcut"] == "thanks"
    await create_canned(core, cast.workspace_id, "track", "Your tracking link: …")
    dup = await alice.api("POST", "/canned", json={"shortcut": "thanks", "text": "again"})
    assert dup.status_code == 409
    found = (await alice.api("GET", "/canned", params={"q": "th"})).json()["items"]
    assert [c["shortcut"] for c in found] == ["thanks"]
    everything = (await alice.api("GET", "/canned")).json()["items"]
    assert [c["shortcut"] for c in everything] == ["thanks", "track"]
    assert (await alice.api("GET", "/canned", params={"q": ".*"})).json()["items"] == []


async def test_the_customer_panel(cast: Cast, browser, core: Core) -> None:
    await ingest(core, cast.shop, inbound(cast.shop, "ada", "another thread", thread="t-2"))
    alice = await browser("alice")
    conv = (await alice.api("GET", f"/conversations/{cast.conversations['shop']}")).json()
    customer_id = conv["conversation"]["customer_id"]
    tagged = await alice.api(
        "PUT", f"/customers/{customer_id}/tags", json={"tags": ["vip", "vip", "eu"]}
    )
    assert tagged.json()["tags"] == ["vip", "eu"]
    panel = (await alice.api("GET", f"/customers/{customer_id}")).json()
    assert panel["name"] == "Ada Lovelace" and panel["emails"] == ["ada@example.com"]
    assert panel["tags"] == ["vip", "eu"]
    assert [(i["channel_name"], i["external_id"]) for i in panel["identities"]] == [
        ("Shop", "u-ada")
    ]
    assert len(panel["conversations"]) == 2
    assert panel["tickets"] == [] and panel["orders"] == [] and panel["sentiment_history"] == []
    samples = [
        {"at": "2026-01-01T10:00:00+00:00", "score": -0.7},
        {"at": "2026-01-02T10:00:00+00:00", "score": 0.6},
    ]
    await core.store.customers.update_one(
        {"_id": customer_id}, {"$set": {"sentiment": {"score": 0.1, "samples": samples}}}
    )
    history = (await alice.api("GET", f"/customers/{customer_id}")).json()["sentiment_history"]
    assert [(h["label"], h["score"]) for h in history] == [("positive", 0.6), ("negative", -0.7)]
    assert "password" not in str(panel)


async def test_presence_shows_who_else_is_viewing_and_typing(cast: Cast, browser, core: Core):
    admin, alice = await browser("admin"), await browser("alice")
    conv = cast.conversations["shop"]
    await admin.api("POST", f"/conversations/{conv}/presence", json={"state": "typing"})
    await alice.api("POST", f"/conversations/{conv}/presence", json={"state": "viewing"})
    seen = (await alice.api("GET", f"/conversations/{conv}/presence")).json()["items"]
    assert seen == [{"user_id": cast.users["admin"].id, "name": "Admin", "state": "typing"}]
    await admin.api("POST", f"/conversations/{conv}/presence", json={"state": "left"})
    assert (await alice.api("GET", f"/conversations/{conv}/presence")).json()["items"] == []
    changes = await core.store.events.count_documents({"type": "presence.changed"})
    await alice.api("POST", f"/conversations/{conv}/presence", json={"state": "viewing"})
    assert await core.store.events.count_documents({"type": "presence.changed"}) == changes


async def test_presence_expires(cast: Cast, browser, clock: ManualClock) -> None:
    admin, alice = await browser("admin"), await browser("alice")
    conv = cast.conversations["shop"]
    await admin.api("POST", f"/conversations/{conv}/presence", json={"state": "viewing"})
    clock.advance(31)
    assert (await alice.api("GET", f"/conversations/{conv}/presence")).json()["items"] == []


async def test_language_from_the_browser_or_the_users_setting(cast: Cast, browser) -> None:
    alice = await browser("alice")
    english = await alice.http.get("/app", headers={"Accept-Language": "de, en;q=0.5"})
    assert 'lang="en"' in english.text and "Log out" in english.text
    chinese = await alice.http.get("/app", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert 'lang="zh-Hans"' in chinese.text and "退出登录" in chinese.text
    assert (await alice.api("PUT", "/me/settings", json={"locale": "zh"})).status_code == 200
    chosen = await alice.http.get("/app", headers={"Accept-Language": "en"})
    assert "退出登录" in chosen.text
    login = await (await browser()).http.get("/app/login", headers={"Accept-Language": "zh"})
    assert '<label for="email">邮箱</label>' in login.text


async def test_names_are_escaped_in_the_page(cast: Cast, browser, core: Core) -> None:
    await core.store.users.update_one(
        {"_id": cast.users["alice"].id}, {"$set": {"name": "<img src=x onerror=alert(1)>"}}
    )
    page = (await (await browser("alice")).http.get("/app")).text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    answer = await (await browser("alice")).http.get("/app")
    assert "script-src 'self'" in answer.headers["content-security-policy"]


async def test_static_files(cast: Cast, browser) -> None:
    anyone = await browser()
    script = await anyone.http.get("/app/static/inbox.js")
    assert (
        script.status_code == 200
        and "textContent" in script.text
        and "innerHTML" not in script.text
    )
    assert (await anyone.http.get("/app/static/..%2Fpages.py")).status_code == 404
    login = (await anyone.http.get("/app/login")).text
    assert '<link rel="icon" href="/app/static/favicon.svg"' in login  # no /favicon.ico 404
    icon = await anyone.http.get("/app/static/favicon.svg")
    assert icon.headers["content-type"].startswith("image/svg+xml") and "<svg" in icon.text


async def test_the_lookups_the_page_needs(cast: Cast, browser) -> None:
    alice = await browser("alice")
    me = (await alice.api("GET", "/me")).json()
    assert me["user"]["name"] == "Alice" and me["can_write"] and not me["is_admin"]
    users = (await alice.api("GET", "/users")).json()["items"]
    assert [u["name"] for u in users] == ["Admin", "Alice", "Bob", "Mary"]
    assert all("password_hash" not in u for u in users)
    assert [t["name"] for t in (await alice.api("GET", "/teams")).json()["items"]] == [
        "Sales",
        "Support",
    ]
    assert [c["name"] for c in (await alice.api("GET", "/channels")).json()["items"]] == ["Shop"]
