"""The visitor's wait for a person: who types a reply, how long the team usually takes, and an
email left while waiting. Through the widget's HTTP API and stream, agents through the inbox's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from kith.bots.engine import BotEngine
from kith.connectors.webchat.waiting import CACHE, HANDOFF
from kith.core.auth import create_user
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.features import install
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    Conversation,
    InboundMessage,
    InboundUser,
    OutboundContent,
    Role,
)
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from tests.connectors.webchat.conftest import Visitor, Webchat
from tests.connectors.webchat.test_widget_stream import browser, listen, served  # noqa: F401
from tests.web.conftest import PASSWORD, Browser, sign_in

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def agent(core: Core, app: FastAPI, workspace_id: str, name: str, email: str) -> Browser:
    """A signed-in inbox user of the workspace (an admin: every conversation is theirs to read)."""
    await create_user(core, workspace_id, email, PASSWORD, name=name, role=Role.admin)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kith.test")
    session = Browser(http)
    assert (await sign_in(http, email)).status_code == 303
    session.csrf = (await session.api("GET", "/me")).json()["csrf_token"]
    return session


async def presence(who: Browser, conv_id: str, state: str) -> None:
    answer = await who.api("POST", f"/conversations/{conv_id}/presence", json={"state": state})
    assert answer.status_code == 200, answer.text


async def test_reply_typing_reaches_the_widget_and_note_typing_never_does(
    webchat: Webchat,
    core: Core,
    kith_app: FastAPI,
    served: str,  # noqa: F811
    clock: ManualClock,
    workspace_id: str,
) -> None:
    ada = await browser(webchat, served)
    conv_id = (await webchat.conversation_of(await ada.say("Is anyone there?")))["_id"]
    li_na = await agent(core, kith_app, workspace_id, "李娜", "li.na@kith.test")
    tom = await agent(core, kith_app, workspace_id, "Tom", "tom@kith.test")
    try:
        async with listen(ada) as stream:
            await presence(li_na, conv_id, "viewing")
            await presence(li_na, conv_id, "noting")  # a private note: the widget hears nothing
            await presence(li_na, conv_id, "typing")
            first = await stream.next()  # events come in order: nothing came for the note
            assert first["event"] == "typing" and "id" not in first
            # she has not written here yet: the widget does not know her name
            assert first["data"] == {"name": "Northwind Tea", "expires_in": 30.0}
            await presence(li_na, conv_id, "noting")  # switched to a note: the indicator goes
            assert (await stream.next())["data"]["name"] is None

            clock.advance(1)
            said = await li_na.api(
                "POST", f"/conversations/{conv_id}/messages", json={"text": "Hello, I'm here."}
            )
            assert said.status_code == 201, said.text
            await OutboxWorker(core).run_once()
            reply = await stream.next()
            assert reply["event"] == "message" and reply["data"]["author"]["name"] == "李娜"
            await presence(li_na, conv_id, "viewing")  # the inbox stops typing on sending
            await presence(li_na, conv_id, "typing")
            named = await stream.next()
            assert named["data"]["name"] == "李娜"  # now the widget has shown her name

            clock.advance(31)  # her tab went away without a word: the presence expires
            await presence(tom, conv_id, "viewing")  # any change makes the stream look again
            assert (await stream.next())["data"] == {"name": None, "expires_in": 0.0}
    finally:
        await li_na.http.aclose()
        await tom.http.aclose()


async def answered(webchat: Webchat, clock: ManualClock, minutes: float, **reply: Any) -> str:
    """A new visitor asks; the team answers `minutes` later (through the REST API)."""
    visitor = webchat.visitor()
    assert (await visitor.start()).status_code == 200
    conv_id = str((await webchat.conversation_of(await visitor.say("hello")))["_id"])
    clock.advance(minutes * 60)
    if reply:
        assert (await webchat.reply(conv_id, **reply)).status_code == 201
    return conv_id


async def waiting_visitor(webchat: Webchat) -> Visitor:
    visitor = webchat.visitor()
    assert (await visitor.start()).status_code == 200
    assert (await visitor.say("Where is my tea?")).status_code == 200
    return visitor


async def wait_of(visitor: Visitor) -> dict[str, Any]:
    answer = await visitor.http.get(visitor.url("/wait"), headers=visitor.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_usual_wait_is_the_median_first_reply_of_the_latest_answered_conversations(
    webchat: Webchat, core: Core, clock: ManualClock
) -> None:
    """Recent by count, not by date: an answer older than 7 days still counts (the demo's
    clock, an hour a second, emptied a 7-day window: QA M4)."""
    await answered(webchat, clock, 90, text="an old answer")
    clock.advance(8 * 24 * 3600)
    first = await waiting_visitor(webchat)
    assert await wait_of(first) == {
        "waiting": True,
        "reply_minutes": None,  # one answer: too little to promise anything
        "back_at": None,
        "ask_email": True,
    }
    await answered(webchat, clock, 2, text="answered")
    await answered(webchat, clock, 3, text="only a note", private=True)  # not a reply
    bot_asked = await answered(webchat, clock, 1)
    doc = await core.store.conversations.find_one({"_id": bot_asked})
    assert doc is not None
    bot = Author(kind=AuthorKind.bot, id="helper", name="Helper")
    await send(core, Conversation.from_doc(doc), OutboundContent(text="a bot's answer"), bot)
    # two answered: too few to promise anything; the answer is then kept 5 minutes
    assert (await wait_of(first))["reply_minutes"] is None
    await answered(webchat, clock, 3.5, text="answered")  # 90, 2, 3.5: median 3.5 → 4
    second = await waiting_visitor(webchat)
    assert (await wait_of(second))["reply_minutes"] is None  # still the answer kept
    clock.advance(2 * 60)
    assert await wait_of(second) == {
        "waiting": True,
        "reply_minutes": 4,  # without the 8-day-old answer: two, and nothing said
        "back_at": None,
        "ask_email": True,
    }
    # answered by a person: the visitor waits no more, and nothing is said
    conv_id = (await webchat.conversation_of(await second.say("thanks")))["_id"]
    assert (await webchat.reply(conv_id, text="You're welcome")).status_code == 201
    assert await wait_of(second) == {
        "waiting": False,
        "reply_minutes": None,
        "back_at": None,
        "ask_email": False,
    }


async def test_the_sample_is_the_latest_200_answered_however_many_went_unanswered(
    webchat: Webchat, core: Core, clock: ManualClock
) -> None:
    """101 answered in 30 minutes, then 100 in 2, then 50 nobody answered: the latest 200
    answered are 100 of each (median 16; all 201 would say 30), found past the first 200
    conversations read."""
    doc = await core.store.channels.find_one({"_id": webchat.channel_id})
    assert doc is not None
    channel = Channel.from_doc(doc)
    agent_ = Author(kind=AuthorKind.agent, name="Li Na")
    for n, minutes in enumerate([30] * 101 + [2] * 100 + [None] * 50):
        said = InboundMessage.on(
            channel, channel_message_id=f"m-{n}", user=InboundUser(id=f"v:{n}"), text="hello"
        )
        received = await ingest(core, channel, said)
        if minutes is not None:
            clock.advance(minutes * 60)
            await send(core, received.conversation, OutboundContent(text="answered"), agent_)
        clock.advance(1)
    assert (await wait_of(await waiting_visitor(webchat)))["reply_minutes"] == 16


async def test_closed_hours_say_when_the_team_is_back(
    webchat: Webchat, clock: ManualClock, core: Core
) -> None:
    install(core, [BotEngine().feature()])  # whose business hours say when the team is back
    tomorrow = DAYS[(clock.now() + timedelta(days=1)).weekday()]
    created = await webchat.admin.post(
        "/api/v1/bots",
        json={
            "name": "Helper",
            "channel_ids": [webchat.channel_id],
            "business_hours": {"timezone": "UTC", "days": {tomorrow: ["09:00", "17:30"]}},
        },
        headers=webchat.auth,
    )
    assert created.status_code == 201, created.text
    for minutes in (2, 3, 4):
        await answered(webchat, clock, minutes, text="answered")
    visitor = await waiting_visitor(webchat)
    assert await wait_of(visitor) == {
        "waiting": True,
        "reply_minutes": None,
        "back_at": {"day": tomorrow, "time": "09:00"},
        "ask_email": True,
    }


async def test_a_waiting_visitor_leaves_an_email_once(webchat: Webchat, core: Core) -> None:
    visitor = webchat.visitor()
    assert (await visitor.start()).status_code == 200
    early = await visitor.http.post(
        visitor.url("/email"), json={"email": "ada@example.com"}, headers=visitor.headers
    )
    assert early.status_code == 404 and early.json()["error"]["field"] == "email"
    posted = await visitor.say("Where is my tea?")
    conv = await webchat.conversation_of(posted)
    for bad in ({"email": "not an address"}, {"email": "ada@"}, {}, {"email": 7}):
        refused = await visitor.http.post(visitor.url("/email"), json=bad, headers=visitor.headers)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"]["field"] == "email", refused.text
    customer = await core.store.customers.find_one({"_id": conv["customer_id"]})
    assert customer is not None and customer["emails"] == []

    for _ in range(2):  # a second press changes nothing
        left = await visitor.http.post(
            visitor.url("/email"), json={"email": " Ada@Example.COM "}, headers=visitor.headers
        )
        assert left.status_code == 200, left.text
        assert left.json() == {
            "waiting": True,
            "reply_minutes": None,
            "back_at": None,
            "ask_email": False,  # never asked again
        }
    customer = await core.store.customers.find_one({"_id": conv["customer_id"]})
    assert customer is not None and customer["emails"] == ["ada@example.com"]
    notes = await core.store.messages.find(
        {"conversation_id": conv["_id"], "private": True}
    ).to_list(None)
    assert [n["text"] for n in notes] == [
        "The customer left their email in the chat: ada@example.com"
    ]
    assert notes[0]["wording"] == {
        "key": "webchat_email_left",
        "values": {"email": "ada@example.com"},
        "terms": {},
    }
    assert (
        await core.store.events.count_documents(
            {
                "type": "customer.updated",
                "customer_id": conv["customer_id"],
                "data.fields": "emails",
            }
        )
        == 1
    )
    assert "ada@example.com" not in await visitor.texts()  # a note: never in the widget
    assert (await wait_of(visitor))["ask_email"] is False


async def test_the_usual_wait_counts_from_the_bots_hand_off_not_the_bots_talk(
    webchat: Webchat, core: Core, clock: ManualClock
) -> None:
    """Three visitors talk with a bot for 20 minutes, are handed off, and a person answers 2,
    3 and 4 minutes later: the team usually takes 3 minutes, not 23. A person who stepped in
    before any hand-off is counted from the conversation's start."""
    for minutes in (2, 3, 4):
        visitor = webchat.visitor()
        assert (await visitor.start()).status_code == 200
        conv = await webchat.conversation_of(await visitor.say("hello"))
        clock.advance(20 * 60)  # the bot's part
        handoff = build_event(
            core, conv["workspace_id"], HANDOFF, conversation_id=conv["_id"], data={}
        )
        await record(core, handoff)
        clock.advance(minutes * 60)
        assert (await webchat.reply(conv["_id"], text="I'm here")).status_code == 201
    assert (await wait_of(await waiting_visitor(webchat)))["reply_minutes"] == 3
    clock.advance(CACHE.total_seconds())  # the figure is kept 5 minutes: worked out again
    for _ in range(4):  # stepped in while the bot talked, 30 minutes in; handed off later
        conv_id = await answered(webchat, clock, 30, text="I'm here")
        doc = await core.store.conversations.find_one({"_id": conv_id})
        assert doc is not None
        clock.advance(60)
        await record(core, build_event(core, doc["workspace_id"], HANDOFF, conversation_id=conv_id))
    assert (await wait_of(await waiting_visitor(webchat)))["reply_minutes"] == 30  # 3 of 7 at 2-4


async def test_a_visitor_who_left_an_email_goes_by_it_in_the_inbox(
    webchat: Webchat, core: Core, kith_app: FastAPI, workspace_id: str
) -> None:
    """No name, then an email left while waiting: the inbox lists them by the address, not as
    "Customer 7F3A" (QA pass 7)."""
    visitor = webchat.visitor()
    assert (await visitor.start()).status_code == 200
    conv_id = (await webchat.conversation_of(await visitor.say("Where is my tea?")))["_id"]
    li_na = await agent(core, kith_app, workspace_id, "李娜", "li.na@kith.test")
    try:
        listed = (await li_na.api("GET", "/conversations")).json()["items"]
        assert [c["customer_name"] for c in listed if c["id"] == conv_id] == [None]
        left = await visitor.http.post(
            visitor.url("/email"), json={"email": "ada@example.com"}, headers=visitor.headers
        )
        assert left.status_code == 200, left.text
        listed = (await li_na.api("GET", "/conversations")).json()["items"]
        assert [c["customer_name"] for c in listed if c["id"] == conv_id] == ["ada@example.com"]
    finally:
        await li_na.http.aclose()
