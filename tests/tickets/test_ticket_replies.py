"""Replying from a ticket (`POST /tickets/{id}/replies`): the reply goes out in the ticket's
conversation through the inbox's send, so the inbox shows it and every rule of that path
holds (who may answer, WeChat's 48-hour window failing the delivery with the same reason as
an inbox reply); a note stays in the conversation; a blank reply, a ticket without a
conversation and a conversation not the ticket's are refused naming their field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import InboundMessage, InboundUser
from kith.core.outbox import OutboxWorker
from kith.core.pipeline import ingest
from kith.tickets.feature import feature
from tests.support.consumers import drain
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Browser,
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)

WECHAT = {"app_id": "wxb11529c136998cb6", "app_secret": "0123456789abcdef" * 2, "token": "pamtest"}


@pytest.fixture(autouse=True)
def with_tickets(core: Core) -> None:
    install(core, [feature(core)])


async def open_ticket(agent: Browser, conversation_id: str | None, **more: Any) -> str:
    body = {"subject": "Where is it", "conversation_id": conversation_id, **more}
    made = await agent.api("POST", "/tickets", json={k: v for k, v in body.items() if v})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def inbox_messages(agent: Browser, conversation_id: str) -> list[dict[str, Any]]:
    view = await agent.api("GET", f"/conversations/{conversation_id}")
    assert view.status_code == 200, view.text
    return list(view.json()["messages"])


async def test_a_reply_from_the_ticket_is_the_inboxs_reply_and_a_note_stays_inside(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice = await browser("alice")
    shop = cast.conversations["shop"]
    ticket = await open_ticket(alice, shop)
    before = await core.store.conversations.find_one({"_id": shop}) or {}
    assert before.get("waiting_since") and before.get("assignee_id") is None

    sent = await alice.api("POST", f"/tickets/{ticket}/replies", json={"text": "On its way <b>"})
    assert sent.status_code == 201, sent.text
    reply = sent.json()
    assert (reply["conversation_id"], reply["direction"], reply["private"]) == (shop, "out", False)
    assert (reply["author"]["kind"], reply["author"]["id"]) == ("agent", cast.users["alice"].id)
    assert reply["delivery"]["status"] == "pending"  # queued on the channel, as the inbox's
    noted = await alice.api(
        "POST", f"/tickets/{ticket}/replies", json={"text": "VIP, be kind", "private": True}
    )
    assert noted.status_code == 201, noted.text
    assert (noted.json()["private"], noted.json()["delivery"]) == (True, None)

    said = [(m["text"], m["private"]) for m in await inbox_messages(alice, shop)]
    assert said[-2:] == [("On its way <b>", False), ("VIP, be kind", True)]
    # A person answered: the customer waits no more (the inbox's send did it).
    assert "waiting_since" not in (await core.store.conversations.find_one({"_id": shop}) or {})
    # Nobody had it: Alice, who answered, has it now, as an answer in the inbox does.
    stored = await core.store.conversations.find_one({"_id": shop}) or {}
    assert stored.get("assignee_id") == cast.users["alice"].id
    await OutboxWorker(core).run_once()
    [out] = [m for m in await inbox_messages(alice, shop) if m["text"] == "On its way <b>"]
    assert out["delivery"]["status"] == "sent"
    timeline = await alice.api("GET", f"/tickets/{ticket}/timeline")
    texts = [i.get("text") for i in timeline.json()["items"]]
    assert "On its way <b>" in texts


async def test_bad_replies_are_refused_naming_their_field_and_send_nothing(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    alice, mary = await browser("alice"), await browser("mary")
    shop = cast.conversations["shop"]
    ticket = await open_ticket(alice, shop)
    before = await core.store.messages.count_documents({})
    for text in ("", "  \n "):
        blank = await alice.api("POST", f"/tickets/{ticket}/replies", json={"text": text})
        assert blank.status_code == 422, blank.text
        error = blank.json()["error"]
        assert (error["field"], error["reason"]) == ("text", "reply_empty")
    missing = await alice.api("POST", f"/tickets/{ticket}/replies", json={})
    assert (missing.status_code, missing.json()["error"]["field"]) == (422, "text")
    other = await alice.api(
        "POST",
        f"/tickets/{ticket}/replies",
        json={"text": "hi", "conversation_id": cast.conversations["help"]},
    )
    assert (other.status_code, other.json()["error"]["field"]) == (422, "conversation_id")
    customer = (await core.store.conversations.find_one({"_id": shop}) or {})["customer_id"]
    alone = await open_ticket(alice, None, customer_id=customer)
    none = await alice.api("POST", f"/tickets/{alone}/replies", json={"text": "hi"})
    assert (none.status_code, none.json()["error"]["field"]) == (422, "conversation_id")
    read_only = await mary.api("POST", f"/tickets/{ticket}/replies", json={"text": "hi"})
    assert read_only.status_code == 403
    bob = await browser("bob")  # Support: the Sales conversation's ticket is not his
    hidden = await bob.api("POST", f"/tickets/{ticket}/replies", json={"text": "hi"})
    assert (hidden.status_code, hidden.json()["error"]["field"]) == (404, "ticket_id")
    assert await core.store.messages.count_documents({}) == before


async def test_outside_wechats_window_the_ticket_reply_fails_as_the_inbox_reply_does(
    core: Core,
    clock: ManualClock,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
    app: Any,  # noqa: F811
) -> None:
    channel, _ = await create_channel(core, cast.workspace_id, "wechat", "公众号", WECHAT)
    said = InboundMessage.on(
        channel, channel_message_id="w1", user=InboundUser(id="o-li", name="李雷"), text="在吗？"
    )
    conversation = (await ingest(core, channel, said)).conversation.id
    admin = await browser("admin")
    ticket = await open_ticket(admin, conversation)
    clock.advance(49 * 3600)  # two days later: WeChat's 48-hour window has shut
    admin = await browser("admin")  # a new day's session
    by_ticket = await admin.api("POST", f"/tickets/{ticket}/replies", json={"text": "抱歉久等"})
    by_inbox = await admin.api(
        "POST", f"/conversations/{conversation}/messages", json={"text": "抱歉久等了"}
    )
    assert (by_ticket.status_code, by_inbox.status_code) == (201, 201)
    await OutboxWorker(core).run_once()
    shown = {m["id"]: m["delivery"] for m in await inbox_messages(admin, conversation)}
    ticket_reply, inbox_reply = shown[by_ticket.json()["id"]], shown[by_inbox.json()["id"]]
    assert ticket_reply["status"] == inbox_reply["status"] == "failed"
    assert ticket_reply["error"] == inbox_reply["error"]
    assert "48-hour" in ticket_reply["error"]

    # The token API answers from a ticket too (as `/api/v1` answers a conversation).
    token = await create_api_token(core, cast.workspace_id, "test")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://kith.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        by_token = await http.post(f"/api/v1/tickets/{ticket}/replies", json={"text": "again"})
        assert by_token.status_code == 201, by_token.text
        assert by_token.json()["author"]["kind"] == "system"
        blank = await http.post(f"/api/v1/tickets/{ticket}/replies", json={"text": " "})
        assert (blank.status_code, blank.json()["error"]["field"]) == (422, "text")


async def test_an_agents_first_answer_opens_a_new_ticket_and_a_note_does_not(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """Regression (QA, agent probe #8): a ticket stayed New after two public replies."""
    alice = await browser("alice")
    shop = cast.conversations["shop"]
    ticket = await open_ticket(alice, shop)

    async def status() -> str:
        await drain(core)
        return str((await alice.api("GET", f"/tickets/{ticket}")).json()["status"])

    await alice.api("POST", f"/tickets/{ticket}/replies", json={"text": "VIP", "private": True})
    assert await status() == "new"
    answer = await alice.api("POST", f"/conversations/{shop}/messages", json={"text": "Hi!"})
    assert answer.status_code in (200, 201), answer.text  # from the inbox, not the ticket
    assert await status() == "open"
    moved = await core.store.events.find_one({"type": "ticket.status_changed"})
    assert moved is not None
    assert (moved["data"]["from"], moved["data"]["to"]) == ("new", "open")
    assert moved["actor"]["id"] == cast.users["alice"].id
    await alice.api("PATCH", f"/tickets/{ticket}", json={"status": "pending"})
    await alice.api("POST", f"/tickets/{ticket}/replies", json={"text": "Any news?"})
    assert await status() == "pending"  # only a new ticket is opened so
