"""Bot flows: triggers, steps, handoff and resumption, through ingest as customers use them."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import do_update_conversation, get_conversation
from kith.core.features import install
from kith.core.models import (
    Author,
    AuthorKind,
    ChannelEvent,
    ChannelEventKind,
    ConversationStatus,
    InboundUser,
    OutboundContent,
)
from kith.core.outbox import send
from kith.core.pipeline import ingest, ingest_event
from kith.web.app import BASE_FEATURES
from tests.bots.conftest import BotSetup, ask_email_flow
from tests.support.cast import inbound
from tests.support.consumers import drain

GREETING = {
    "id": "greet",
    "trigger": {"kind": "first_message"},
    "steps": [{"id": "hello", "type": "send_text", "text": {"en": "Hi {name}!", "zh": "您好！"}}],
}


async def test_first_message_greets_in_the_customers_language(bots: BotSetup) -> None:
    await bots.install(flows=[GREETING], knowledge_base=False)
    english = await bots.say("hello there")
    chinese = await bots.say("你好", who="li")

    assert await bots.bot_texts(english.conversation.id) == ["Hi Ada Lovelace!"]
    assert await bots.bot_texts(chinese.conversation.id) == ["您好！"]
    conversation = await get_conversation(bots.core, bots.workspace_id, english.conversation.id)
    assert conversation.status == ConversationStatus.pending  # the bot has it


async def test_keyword_and_regex_triggers(bots: BotSetup) -> None:
    await bots.install(
        knowledge_base=False,
        flows=[
            {
                "id": "price",
                "trigger": {"kind": "keyword", "values": ["price", "价格"]},
                "steps": [{"id": "s", "type": "send_text", "text": "Plans start at $9."}],
            },
            {
                "id": "order",
                "trigger": {"kind": "regex", "values": [r"#\d{4,}"]},
                "steps": [{"id": "s", "type": "send_text", "text": "Let me look that order up."}],
            },
        ],
    )
    a = await bots.say("What's the PRICE?")
    b = await bots.say("where is #10423", who="grace")
    assert await bots.bot_texts(a.conversation.id) == ["Plans start at $9."]
    assert await bots.bot_texts(b.conversation.id) == ["Let me look that order up."]


async def test_ask_validates_stores_and_reasks(bots: BotSetup) -> None:
    await bots.install(knowledge_base=False, flows=[ask_email_flow("Thanks, {attributes.email}!")])
    first = await bots.say("newsletter please")
    await bots.say("not an email")
    await bots.say("Ada@Example.org")

    texts = await bots.bot_texts(first.conversation.id)
    assert texts == [
        "Your email?",
        "Sorry, that doesn't look right. Please try again.",
        "Your email?",
        "Thanks, ada@example.org!",
    ]
    customer = await bots.core.store.customers.find_one({"_id": first.message.customer_id})
    assert customer["attributes"]["email"] == "ada@example.org"
    assert "ada@example.org" in customer["emails"]


@pytest.mark.parametrize(
    ("validate", "answer", "stored"),
    [
        ("phone", "+49 (30) 123-4567", "+49301234567"),
        ("number", "3,5", 3.5),
        ("date", "2026-12-24", "2026-12-24"),
        ("date", "2026年12月24日", "2026-12-24"),
        ("choice", "2", "Blue"),
        ("choice", "red", "Red"),
    ],
)
async def test_answer_validation_kinds(
    bots: BotSetup, validate: str, answer: str, stored: object
) -> None:
    step = {"id": "q", "type": "ask", "text": "?", "attribute": "x", "validate": validate}
    if validate == "choice":
        step["choices"] = ["Red", "Blue"]
    await bots.install(
        knowledge_base=False,
        flows=[{"id": "f", "trigger": {"kind": "keyword", "values": ["go"]}, "steps": [step]}],
    )
    first = await bots.say("go")
    await bots.say(answer)
    customer = await bots.core.store.customers.find_one({"_id": first.message.customer_id})
    assert customer["attributes"]["x"] == stored


async def test_too_many_invalid_answers_hand_off(bots: BotSetup) -> None:
    await bots.install(
        knowledge_base=False,
        flows=[
            {
                "id": "f",
                "trigger": {"kind": "keyword", "values": ["go"]},
                "steps": [
                    {
                        "id": "q",
                        "type": "ask",
                        "text": "Phone?",
                        "attribute": "phone",
                        "validate": "phone",
                        "max_retries": 1,
                    }
                ],
            }
        ],
    )
    first = await bots.say("go")
    await bots.say("nope")
    await bots.say("still nope")
    conversation = await get_conversation(bots.core, bots.workspace_id, first.conversation.id)
    assert conversation.status == ConversationStatus.open
    assert "handoff" in conversation.labels


async def test_buttons_and_numbered_replies_start_button_flows(bots: BotSetup) -> None:
    await bots.install(
        knowledge_base=False,
        flows=[
            {
                "id": "menu",
                "trigger": {"kind": "first_message"},
                "steps": [
                    {
                        "id": "m",
                        "type": "send_text",
                        "text": "How can I help?",
                        "buttons": [
                            {"label": "Track order", "payload": "track"},
                            {"label": "Returns", "payload": "returns"},
                        ],
                    }
                ],
            },
            {
                "id": "track",
                "trigger": {"kind": "button", "values": ["track"]},
                "steps": [{"id": "t", "type": "send_text", "text": "Tracking it now."}],
            },
            {
                "id": "returns",
                "trigger": {"kind": "button", "values": ["returns"]},
                "steps": [{"id": "r", "type": "send_text", "text": "Returns are free."}],
            },
        ],
    )
    first = await bots.say("hi")
    [menu] = [m for m in await bots.outbound(first.conversation.id)]
    assert [b["payload"] for b in menu["buttons"]] == ["track", "returns"]
    await bots.say("Track order", payload="track")  # a pressed button
    assert await bots.bot_texts(first.conversation.id) == ["How can I help?", "Tracking it now."]

    other = await bots.say("hi", who="grace")
    await bots.say("2", who="grace")  # a channel without buttons showed numbered lines
    assert await bots.bot_texts(other.conversation.id) == ["How can I help?", "Returns are free."]


async def test_branch_on_attribute_tag_and_channel_then_set(bots: BotSetup) -> None:
    await bots.install(
        knowledge_base=False,
        flows=[
            {
                "id": "vip",
                "trigger": {"kind": "keyword", "values": ["status"]},
                "steps": [
                    {
                        "id": "b",
                        "type": "branch",
                        "cases": [
                            {"when": {"tag": "vip"}, "goto": "gold"},
                            {
                                "when": {
                                    "attribute": "plan",
                                    "equals": "pro",
                                    "channel_type": "api",
                                },
                                "goto": "pro",
                            },
                        ],
                        "otherwise": "basic",
                    },
                    {"id": "gold", "type": "send_text", "text": "VIP line."},
                    {"id": "end1", "type": "end"},
                    {"id": "pro", "type": "send_text", "text": "Pro line."},
                    {
                        "id": "tag",
                        "type": "set",
                        "add_tags": ["pro-seen"],
                        "attributes": {"seen": True},
                    },
                    {"id": "end2", "type": "end"},
                    {"id": "basic", "type": "send_text", "text": "Basic line."},
                ],
            }
        ],
    )
    first = await bots.say("status?")
    await bots.core.store.customers.update_one(
        {"_id": first.message.customer_id}, {"$set": {"attributes.plan": "pro"}}
    )
    await bots.say("status again")
    await bots.core.store.customers.update_one(
        {"_id": first.message.customer_id}, {"$push": {"tags": "vip"}}
    )
    await bots.say("status now")
    assert await bots.bot_texts(first.conversation.id) == ["Basic line.", "Pro line.", "VIP line."]
    customer = await bots.core.store.customers.find_one({"_id": first.message.customer_id})
    assert "pro-seen" in customer["tags"] and customer["attributes"]["seen"] is True


async def test_webhook_step_uses_the_answer_and_takes_the_error_branch(bots: BotSetup) -> None:
    calls: list[dict] = []

    async def order_api(request: Request) -> JSONResponse:
        body = await request.json()
        calls.append(body)
        if "broken" in body["text"]:
            return JSONResponse({"error": "down"}, status_code=500)
        return JSONResponse({"status": "shipped", "reply": "Your order has shipped."})

    bots.core.http = httpx.AsyncClient(
        transport=httpx.ASGITransport(
            app=Starlette(routes=[Route("/o", order_api, methods=["POST"])])
        )
    )
    await bots.install(
        knowledge_base=False,
        flows=[
            {
                "id": "o",
                "trigger": {"kind": "keyword", "values": ["order"]},
                "steps": [
                    {
                        "id": "call",
                        "type": "webhook",
                        "url": "http://shop.test/o",
                        "save_as": "order",
                        "on_error": "sorry",
                    },
                    {"id": "done", "type": "end"},
                    {"id": "sorry", "type": "send_text", "text": "Our order system is down."},
                ],
            }
        ],
    )
    ok = await bots.say("order status")
    broken = await bots.say("order broken", who="grace")

    assert await bots.bot_texts(ok.conversation.id) == ["Your order has shipped."]
    assert await bots.bot_texts(broken.conversation.id) == ["Our order system is down."]
    customer = await bots.core.store.customers.find_one({"_id": ok.message.customer_id})
    assert customer["attributes"]["order_status"] == "shipped"
    assert calls[0]["customer"]["id"] == ok.message.customer_id


async def test_handoff_then_silence_then_resume_after_resolution(bots: BotSetup) -> None:
    await bots.install(
        knowledge_base=False,
        flows=[
            GREETING,
            {
                "id": "h",
                "trigger": {"kind": "keyword", "values": ["refund"]},
                "steps": [{"id": "x", "type": "handoff", "reason": "refund request"}],
            },
        ],
    )
    first = await bots.say("hello")
    await bots.say("I want a refund")
    conversation = await get_conversation(bots.core, bots.workspace_id, first.conversation.id)
    assert conversation.status == ConversationStatus.open and conversation.assignee_id is None
    note = await bots.core.store.messages.find_one(
        {"conversation_id": conversation.id, "private": True}
    )
    assert "refund request" in note["text"]
    # a flow's own reason is shown as written, in either language's sentence
    assert note["wording"] == {
        "key": "bot_handoff",
        "values": {"reason": "refund request"},
        "terms": {},
    }
    handoff = await bots.core.store.events.find_one({"type": "conversation.handoff"})
    assert handoff["data"]["reason"] == "refund request"

    before = len(await bots.bot_texts(conversation.id))
    await bots.say("hello? refund!")
    assert len(await bots.bot_texts(conversation.id)) == before  # the bot stays silent

    await do_update_conversation(bots.core, conversation, status=ConversationStatus.resolved)
    await bots.say("price of shoes?")  # reopens; the bot is back (fallback answer)
    texts = await bots.bot_texts(conversation.id)
    assert len(texts) == before + 1


async def test_customer_asks_for_a_human_and_two_misses_hand_off(bots: BotSetup) -> None:
    await bots.install(knowledge_base=False, flows=[])
    asked = await bots.say("人工")
    conversation = await get_conversation(bots.core, bots.workspace_id, asked.conversation.id)
    assert "handoff" in conversation.labels
    note = await bots.core.store.messages.find_one(
        {"conversation_id": conversation.id, "private": True}
    )
    assert note["text"] == "Bot handed off: the customer asked for a person"
    assert note["wording"]["terms"] == {"reason": "said_reason_asked"}  # worded per agent

    missed = await bots.say("blorp", who="grace")
    assert "Reply 'human'" in (await bots.bot_texts(missed.conversation.id))[0]
    await bots.say("zzzz", who="grace")
    conversation = await get_conversation(bots.core, bots.workspace_id, missed.conversation.id)
    assert "handoff" in conversation.labels


async def test_outside_business_hours_says_when_a_human_answers(bots: BotSetup, clock) -> None:
    # ManualClock starts on Thursday 2026-01-01 00:00 UTC: closed until 09:00.
    await bots.install(
        knowledge_base=False,
        flows=[],
        business_hours={"timezone": "UTC", "days": {"thu": ["09:00", "18:00"]}},
    )
    asked = await bots.say("human")
    assert "Thu 09:00" in (await bots.bot_texts(asked.conversation.id))[-1]


async def test_an_assigned_conversation_gets_no_bot_answers(bots: BotSetup, core) -> None:
    from kith.core.auth import create_user

    await bots.install(knowledge_base=False, flows=[GREETING])
    first = await bots.say("hi")
    agent = await create_user(core, bots.workspace_id, "sam@shop.test", "password123")
    await do_update_conversation(core, first.conversation, assignee_id=agent.id)
    await bots.say("anyone?")
    assert await bots.bot_texts(first.conversation.id) == ["Hi Ada Lovelace!"]


async def test_an_assigned_conversation_is_the_bots_again_once_resolved(
    bots: BotSetup, core
) -> None:
    """An agent's reply in the inbox assigns the conversation to them; resolved, then reopened
    by the customer, it is the bot's again (docs/bots.md), as an unassigned one is."""
    from kith.core.auth import create_user

    await bots.install(knowledge_base=False, flows=[GREETING])
    first = await bots.say("hi")
    agent = await create_user(core, bots.workspace_id, "sam@shop.test", "password123")
    await do_update_conversation(core, first.conversation, assignee_id=agent.id)
    conversation = await get_conversation(core, bots.workspace_id, first.conversation.id)
    await do_update_conversation(core, conversation, status=ConversationStatus.resolved)
    await bots.say("hi again")
    assert len(await bots.bot_texts(first.conversation.id)) == 2  # the bot answered


async def test_once_an_agent_answers_the_bot_keeps_out_until_it_is_resolved(
    bots: BotSetup, clock: ManualClock
) -> None:
    """Regression (QA, agent probe #1): the bot answered a customer an agent was talking
    with (unassigned) and took the conversation out of the open queue."""
    await bots.install(knowledge_base=False, flows=[GREETING])
    first = await bots.say("hi")
    agent = Author(kind=AuthorKind.agent, id="u-sam", name="Sam")
    note = OutboundContent(text="checking her order", private=True)
    await send(bots.core, first.conversation, note, agent)
    clock.advance(1)
    await bots.say("hello again")  # a note is no answer: the bot still serves her
    assert len(await bots.bot_texts(first.conversation.id)) == 2
    clock.advance(1)
    await send(bots.core, first.conversation, OutboundContent(text="Sam here, hi!"), agent)
    clock.advance(1)
    await bots.say("where is my parcel?")
    texts = await bots.bot_texts(first.conversation.id)
    assert texts[-1] == "Sam here, hi!" and len(texts) == 3
    conversation = await get_conversation(bots.core, bots.workspace_id, first.conversation.id)
    assert conversation.status == ConversationStatus.open  # still in the agents' queue

    await do_update_conversation(bots.core, conversation, status=ConversationStatus.resolved)
    clock.advance(1)
    await bots.say("hi")  # reopened: the bot is back
    assert len(await bots.bot_texts(first.conversation.id)) == 4


async def test_a_bot_answers_what_came_after_it_was_installed(
    bots: BotSetup, clock: ManualClock
) -> None:
    """Messages that waited when the bot was installed (the workers catching up on a backlog,
    a demo's seeded conversations) are the agents': no greeting, no "didn't understand"."""
    waiting = await ingest(bots.core, bots.channel, inbound(bots.channel, "ada", "hello?"))
    clock.advance(60)
    await bots.install(flows=[GREETING], knowledge_base=False)
    await drain(bots.core)  # the consumer reaches the earlier message only now
    assert await bots.bot_texts(waiting.conversation.id) == []
    conversation = await get_conversation(bots.core, bots.workspace_id, waiting.conversation.id)
    assert conversation.status == ConversationStatus.open  # still in the agents' queue
    await bots.say("anyone there?")  # after the install: the bot's (not a first message now)
    assert await bots.bot_texts(waiting.conversation.id) == [
        "Sorry, I didn't understand. Reply 'human' to talk to a person."
    ]


async def test_channel_event_triggers_subscribe_menu_click_and_group_join(bots: BotSetup) -> None:
    await bots.install(
        knowledge_base=False,
        flows=[
            {
                "id": "welcome",
                "trigger": {"kind": "event", "values": ["subscribed"]},
                "steps": [{"id": "w", "type": "send_text", "text": "Thanks for following!"}],
            },
            {
                "id": "menu",
                "trigger": {"kind": "event", "values": ["menu_click:HOURS"]},
                "steps": [{"id": "h", "type": "send_text", "text": "Open 9 to 6."}],
            },
            {
                "id": "join",
                "trigger": {"kind": "event", "values": ["member_joined"]},
                "steps": [{"id": "j", "type": "send_text", "text": "Welcome to the group!"}],
            },
        ],
    )

    async def event(kind: ChannelEventKind, event_id: str, **kw: object) -> None:
        await ingest_event(
            bots.core,
            bots.channel,
            ChannelEvent(
                workspace_id=bots.workspace_id,
                channel_id=bots.channel.id,
                channel_type="api",
                event_id=event_id,
                kind=kind,
                user=InboundUser(id="u-new", name="Nova"),
                thread_key=kw.get("group_id"),
                **kw,
            ),
        )
        await drain(bots.core)

    await event(ChannelEventKind.subscribed, "e1", payload="scene_42")
    await event(ChannelEventKind.subscribed, "e1", payload="scene_42")  # redelivered
    await event(ChannelEventKind.menu_click, "e2", payload="HOURS")
    await event(ChannelEventKind.member_joined, "e3", group_id="g-1", group_name="Fans")

    convs = await bots.core.store.conversations.find({}).to_list(None)
    by_thread = {c["thread_key"]: c["_id"] for c in convs}
    assert await bots.bot_texts(by_thread["user:u-new"]) == [
        "Thanks for following!",
        "Open 9 to 6.",
    ]
    assert await bots.bot_texts(by_thread["g-1"]) == ["Welcome to the group!"]


async def test_bot_state_survives_a_restart(bots: BotSetup) -> None:
    """A new engine (a new process) continues the conversation where the old one stopped."""
    from kith.bots.engine import BotEngine

    await bots.install(
        knowledge_base=False,
        flows=[
            {
                "id": "f",
                "trigger": {"kind": "keyword", "values": ["go"]},
                "steps": [
                    {"id": "q", "type": "ask", "text": "Name?", "attribute": "nick"},
                    {"id": "t", "type": "send_text", "text": "Hi {attributes.nick}"},
                ],
            }
        ],
    )
    first = await bots.say("go")
    old = bots.core  # that process is gone; a new one, with a new engine, takes the next turn
    restarted = Core(store=old.store, settings=old.settings, clock=old.clock, http=old.http)
    install(restarted, [*BASE_FEATURES, BotEngine().feature()])
    await BotSetup(restarted, bots.channel, bots.workspace_id).say("Ace")
    assert (await bots.bot_texts(first.conversation.id))[-1] == "Hi Ace"
