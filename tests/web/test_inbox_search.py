"""Inbox search through the session API: words, Chinese without spaces, names, scope,
injection, pages; the list's one-line preview; merging customers from the panel."""

from __future__ import annotations

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.customers import do_update_customer, get_customer
from kith.core.models import Author, AuthorKind, InboundUser, OutboundContent
from kith.core.outbox import send
from kith.core.pipeline import ingest, ingest_edit
from kith.core.search import reindex
from tests.support.cast import inbound
from tests.support.consumers import drain, indexed
from tests.web.conftest import Cast

AGENT = Author(kind=AuthorKind.agent, id="u-agent", name="Agent")


async def found(session, q: str, **params) -> list[str]:
    answer = await session.api("GET", "/conversations", params={"q": q, "status": "any", **params})
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["items"]]


async def say(core: Core, channel, who: str, text: str, name: str | None = None) -> str:
    user = InboundUser(id=f"u-{who}", name=name or who.title())
    received = await ingest(core, channel, inbound(channel, user=user, text=text))
    await indexed(core)  # the search consumer, a moment after ingest in `kith serve`
    return received.conversation.id


async def test_words_chinese_without_spaces_and_mixed_text(cast: Cast, browser, core: Core) -> None:
    refund = await say(core, cast.help, "wang", "我要退款谢谢")
    mixed = await say(core, cast.help, "zhao", "我的iPhone屏幕坏了")
    admin = await browser("admin")
    assert await found(admin, "退款") == [refund]
    assert await found(admin, "要退款") == [refund]
    assert await found(admin, "退货") == []
    assert await found(admin, "IPHONE") == [mixed]
    assert await found(admin, "iphone 屏幕") == [mixed]
    assert await found(admin, "iphone 退款") == []  # every term must be in one conversation
    assert await found(admin, "crashes") == [cast.conversations["help"]]
    assert await found(admin, "Where ORDER") == [cast.conversations["shop"]]
    assert await found(admin, "ｏｒｄｅｒ") == [cast.conversations["shop"]]  # NFKC


async def test_replies_are_found_and_private_notes_are_not(cast: Cast, browser, core: Core) -> None:
    shop = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    await send(core, shop, OutboundContent(text="您的包裹已发货"), AGENT)
    await send(core, shop, OutboundContent(text="customer seems angry", private=True), AGENT)
    admin = await browser("admin")
    assert await found(admin, "发货") == [shop.id]
    assert await found(admin, "angry") == []


async def test_customer_names_emails_and_phones(cast: Cast, browser, core: Core) -> None:
    li = await say(core, cast.shop, "lilei", "你好", name="李雷")
    han = await say(core, cast.shop, "han", "hello", name="韩梅梅")
    admin = await browser("admin")
    assert await found(admin, "李雷") == [li]
    assert await found(admin, "李") == [li]  # one character of a name
    assert await found(admin, "梅梅") == [han]
    assert await found(admin, "lovelace") == [cast.conversations["shop"]]
    assert await found(admin, "ada@example.com") == [cast.conversations["shop"]]
    assert await found(admin, "+1 555 0100") == [cast.conversations["help"]]


async def test_a_renamed_customer_is_found_by_the_new_name(cast: Cast, browser, core: Core) -> None:
    conversation = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    customer = await get_customer(core, cast.workspace_id, conversation.customer_id)
    await do_update_customer(core, customer, fields={"name": "韩梅梅"})
    await drain(core)  # the search consumer indexes the profile
    admin = await browser("admin")
    assert await found(admin, "梅梅") == [conversation.id]
    assert await found(admin, "lovelace") == []


async def test_an_edit_is_found_by_its_new_words(cast: Cast, browser, core: Core) -> None:
    sent = inbound(cast.help, "grace", "first words", message_id="edit-me")
    conversation = (await ingest(core, cast.help, sent)).conversation.id
    await ingest_edit(core, cast.help, "edit-me", "second thoughts 退款")
    admin = await browser("admin")
    assert await found(admin, "thoughts 退款") == [conversation]
    assert await found(admin, "first words") == []


async def test_agents_find_only_their_teams_conversations(cast: Cast, browser, core: Core) -> None:
    shop_refund = await say(core, cast.shop, "s1", "退款 please")
    help_refund = await say(core, cast.help, "h1", "退款 please")
    alice, bob, admin = await browser("alice"), await browser("bob"), await browser("admin")
    assert await found(alice, "退款") == [shop_refund]
    assert await found(bob, "退款") == [help_refund]
    assert set(await found(admin, "退款")) == {shop_refund, help_refund}
    assert await found(alice, "crashes") == []  # Support's conversation
    assert await found(alice, "grace") == []  # Support's customer
    # Handed to Support, a Sales conversation is Bob's to find (on a channel he cannot see).
    handed = await admin.api(
        "PATCH", f"/conversations/{shop_refund}", json={"team_id": cast.users["support"].id}
    )
    assert handed.status_code == 200, handed.text
    assert set(await found(bob, "退款")) == {shop_refund, help_refund}


async def test_user_text_never_becomes_an_operator_or_a_pattern(cast: Cast, browser) -> None:
    admin = await browser("admin")
    for q in ('{"$ne": null}', ".*", "(.*", "^", "\\", "[a-z]+"):
        assert await found(admin, q) == [], q
    # `$where` is the word "where" (in "Where is my order?"), not an operator.
    assert await found(admin, "$where") == [cast.conversations["shop"]]
    assert await found(admin, "the app crashes") == [cast.conversations["help"]]


async def test_newest_first_in_cursor_pages(
    cast: Cast, browser, core: Core, clock: ManualClock
) -> None:
    made = []
    for i in range(5):
        clock.advance(60)
        made.append(await say(core, cast.shop, f"p{i}", f"退款 number {i}"))
    admin = await browser("admin")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "退款", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await admin.api("GET", "/conversations", params=params)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == made[::-1]


async def test_documents_stored_without_terms_are_indexed_by_reindex(
    cast: Cast, browser, core: Core
) -> None:
    """Messages, customers and conversations written before search existed (or by a bulk
    tool)."""
    for collection in (core.store.messages, core.store.customers):
        await collection.update_many({}, {"$unset": {"terms": ""}})
    await core.store.conversation_terms.delete_many({})
    admin = await browser("admin")
    assert await found(admin, "crashes") == []
    counts = await reindex(core)
    assert counts["messages"] == 2 and counts["customers"] >= 2 and counts["conversations"] == 2
    assert await found(admin, "crashes") == [cast.conversations["help"]]
    assert await found(admin, "hopper") == [cast.conversations["help"]]
    assert await reindex(core) == {"messages": 0, "customers": 0, "conversations": 0}


async def test_accents_are_ignored_both_ways(cast: Cast, browser, core: Core) -> None:
    """A Spanish customer is found by "jose" and by "José", their message by "donde esta"."""
    said = await say(core, cast.help, "jn", "Hola, ¿dónde está mi pedido?", name="José Núñez")
    admin = await browser("admin")
    for q in ("jose nunez", "JOSÉ", "donde esta", "dónde"):
        assert await found(admin, q) == [said], q
    assert await found(admin, "donda") == []


async def test_reindex_all_recomputes_terms_an_upgrade_finds_more_by(
    cast: Cast, browser, core: Core
) -> None:
    """Text indexed before a run's last CJK character was kept (退 in 我要退) is found by it
    once `kith search reindex --all` has computed every document's terms again; the plain
    reindex fills only documents without terms."""
    said = await say(core, cast.help, "wang", "我要退")
    await core.store.messages.update_many({"text": "我要退"}, {"$set": {"terms": ["我要", "要退"]}})
    await core.store.conversation_terms.delete_many({"_id": f"{said}:退"})
    admin = await browser("admin")
    assert await found(admin, "退") == []
    assert (await reindex(core))["messages"] == 0
    assert await found(admin, "退") == []
    counts = await reindex(core, every=True)
    assert counts["messages"] == await core.store.messages.count_documents({})
    assert await found(admin, "退") == [said]
    assert await found(admin, "crashes") == [cast.conversations["help"]]


async def test_the_list_shows_the_last_message_or_note(
    cast: Cast, browser, core: Core, clock: ManualClock
) -> None:
    admin = await browser("admin")

    async def preview() -> dict:
        answer = await admin.api("GET", "/conversations", params={"channel": cast.shop.id})
        [item] = answer.json()["items"]
        return item["preview"]

    first = await preview()
    assert (first["text"], first["author_kind"]) == ("Where is my order?", "customer")
    shop = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    clock.advance(60)
    await send(core, shop, OutboundContent(text="<b>On its way</b>\n\n  today"), AGENT)
    assert (await preview())["text"] == "<b>On its way</b> today"  # one line, stored as text
    await send(core, shop, OutboundContent(text="check the warehouse", private=True), AGENT)
    assert (await preview())["private"] is True
    await ingest(core, cast.shop, inbound(cast.shop, "ada", "x" * 500))
    long = await preview()
    assert long["author_kind"] == "customer" and len(long["text"]) == 140
    assert long["text"].endswith("…")


async def test_an_agent_merges_two_customers_from_the_panel(
    cast: Cast, browser, core: Core
) -> None:
    twin = await say(core, cast.shop, "ada2", "it's me again", name="Ada L.")
    ada_conv = await get_conversation(core, cast.workspace_id, cast.conversations["shop"])
    twin_conv = await get_conversation(core, cast.workspace_id, twin)
    alice, bob, mary = await browser("alice"), await browser("bob"), await browser("mary")
    path = f"/customers/{ada_conv.customer_id}/merge"
    refused = await mary.api("POST", path, json={"other_id": twin_conv.customer_id})
    assert refused.status_code == 403
    other_team = await bob.api("POST", path, json={"other_id": twin_conv.customer_id})
    assert other_team.status_code == 403
    missing = await alice.api("POST", path, json={"other_id": "no-such"})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "other_id"
    merged = await alice.api("POST", path, json={"other_id": twin_conv.customer_id})
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == ada_conv.customer_id
    moved = await get_conversation(core, cast.workspace_id, twin)
    assert moved.customer_id == ada_conv.customer_id
    panel = (await alice.api("GET", f"/customers/{ada_conv.customer_id}")).json()
    assert {i["external_id"] for i in panel["identities"]} == {"u-ada", "u-ada2"}
    await drain(core)
    assert set(await found(alice, "ada")) == {ada_conv.id, twin}
