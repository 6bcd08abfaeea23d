"""What language a bot answers in, and its buttons' labels in it: through ingest, as
customers write."""

from __future__ import annotations

from typing import Any

import pytest

from kith.core.conversations import get_conversation
from kith.core.errors import InvalidInput
from kith.core.models import InboundUser
from kith.core.pipeline import ingest
from tests.bots.conftest import BotSetup
from tests.support.cast import inbound
from tests.support.consumers import drain

WANG = InboundUser(id="u-wang", name="王芳")  # writes Chinese; her channel sends no locale

MENU = {
    "id": "menu",
    "trigger": {"kind": "first_message"},
    "steps": [
        {
            "id": "hello",
            "type": "send_text",
            "text": {"en": "How can I help?", "zh": "请问需要什么帮助？"},
            "buttons": [
                {"label": {"en": "Newsletter", "zh": "订阅新闻"}, "payload": "newsletter"},
                {"label": {"en": "Talk to a person", "zh": "人工客服"}, "payload": "kith:human"},
                {"label": "FAQ", "url": "https://shop.example/faq"},
            ],
        }
    ],
}
NEWSLETTER = {
    "id": "newsletter",
    "trigger": {"kind": "button", "values": ["newsletter"]},
    "steps": [
        {
            "id": "ask",
            "type": "ask",
            "attribute": "email",
            "validate": "email",
            "text": {"en": "Your email?", "zh": "您的邮箱？"},
        },
        {
            "id": "thanks",
            "type": "send_text",
            "text": {"en": "Thanks! We'll write to {attributes.email}.", "zh": "谢谢！"},
        },
    ],
}


async def labels_of_the_last_reply(bots: BotSetup, conversation_id: str) -> list[str]:
    replies = [m for m in await bots.outbound(conversation_id) if not m["private"]]
    return [b["label"] for b in replies[-1]["buttons"]]


@pytest.mark.parametrize(
    ("who", "greeting", "labels"),
    [
        ({"who": "ada"}, "hello", ["Newsletter", "Talk to a person", "FAQ"]),
        ({"user": WANG}, "你好", ["订阅新闻", "人工客服", "FAQ"]),
        ({"who": "li"}, "hi", ["订阅新闻", "人工客服", "FAQ"]),  # 李雷's profile says zh-CN
    ],
)
async def test_button_labels_are_shown_in_the_customers_language(
    bots: BotSetup, who: dict[str, Any], greeting: str, labels: list[str]
) -> None:
    await bots.install(knowledge_base=False, flows=[MENU, NEWSLETTER])
    first = await bots.say(greeting, **who)
    assert await labels_of_the_last_reply(bots, first.conversation.id) == labels


@pytest.mark.parametrize(
    ("who", "greeting", "pick", "asked"),
    [
        ({"who": "ada"}, "hello", {"text": "Newsletter", "payload": "newsletter"}, "Your email?"),
        ({"who": "ada"}, "hello", {"text": "newsletter"}, "Your email?"),  # typed, any case
        ({"who": "ada"}, "hello", {"text": "订阅新闻"}, "您的邮箱？"),  # the other language's
        ({"user": WANG}, "你好", {"text": "订阅新闻", "payload": "newsletter"}, "您的邮箱？"),
        ({"user": WANG}, "你好", {"text": "订阅新闻"}, "您的邮箱？"),
        ({"user": WANG}, "你好", {"text": "Newsletter"}, "您的邮箱？"),
        ({"user": WANG}, "你好", {"text": "1"}, "您的邮箱？"),
    ],
)
async def test_a_button_is_picked_by_its_payload_or_by_typing_a_label_in_either_language(
    bots: BotSetup, who: dict[str, Any], greeting: str, pick: dict[str, str], asked: str
) -> None:
    await bots.install(knowledge_base=False, flows=[MENU, NEWSLETTER])
    first = await bots.say(greeting, **who)
    await bots.say(pick["text"], payload=pick.get("payload"), **who)
    assert (await bots.bot_texts(first.conversation.id))[-1] == asked


@pytest.mark.parametrize("typed", ["Talk to a person", "人工客服"])
async def test_typing_the_label_of_the_person_button_hands_off(bots: BotSetup, typed: str) -> None:
    await bots.install(knowledge_base=False, flows=[MENU, NEWSLETTER])
    first = await bots.say("hello")
    await bots.say(typed)
    conversation = await get_conversation(bots.core, bots.workspace_id, first.conversation.id)
    assert "handoff" in conversation.labels


async def test_the_fallbacks_person_button_is_in_the_customers_language(bots: BotSetup) -> None:
    await bots.install(knowledge_base=False, flows=[])
    english = await bots.say("blorp zzz qqq")
    chinese = await bots.say("猫咪生病了", user=WANG)
    assert await labels_of_the_last_reply(bots, english.conversation.id) == ["Talk to a person"]
    assert await labels_of_the_last_reply(bots, chinese.conversation.id) == ["人工客服"]


@pytest.mark.parametrize("nlp_language", [None, "und"])
async def test_a_chinese_customers_email_address_is_answered_in_chinese(
    bots: BotSetup, nlp_language: str | None
) -> None:
    """The thank-you after the address: "wang@example.com" says nothing of her language (NLP
    finds none in it, "und"), so the bot keeps the conversation's Chinese."""
    await bots.install(knowledge_base=False, flows=[MENU, NEWSLETTER])
    first = await bots.say("你好", user=WANG)
    await bots.say("订阅新闻", payload="newsletter", user=WANG)
    address = inbound(bots.channel, text="wang@example.com", user=WANG)
    received = await ingest(bots.core, bots.channel, address)
    if nlp_language is not None:  # as when the NLP worker got to it before the bot
        await bots.core.store.messages.update_one(
            {"_id": received.message.id}, {"$set": {"nlp": {"language": nlp_language}}}
        )
    await drain(bots.core)
    assert await bots.bot_texts(first.conversation.id) == [
        "请问需要什么帮助？",
        "您的邮箱？",
        "谢谢！",
    ]


async def test_a_sentence_in_english_is_answered_in_english_and_a_short_word_keeps_it(
    bots: BotSetup,
) -> None:
    """李雷's profile says Chinese, but he writes a sentence in English: the bot answers what
    he wrote in; his profile's language holds where a message tells nothing ("ok")."""
    flows = [
        {
            "id": "hours",
            "trigger": {"kind": "keyword", "values": ["open", "ok", "营业"]},
            "steps": [
                {"id": "s", "type": "send_text", "text": {"en": "9 to 6.", "zh": "九点到六点。"}}
            ],
        }
    ]
    await bots.install(knowledge_base=False, flows=flows)
    first = await bots.say("when are you open today", who="li")
    await bots.say("ok", who="li")
    await bots.say("几点营业", who="ada")  # Ada's profile names no language; she writes Chinese
    await bots.say("ok", who="ada")  # … and the conversation stays in it
    ada = await bots.core.store.conversations.find_one(
        {"_id": {"$ne": first.conversation.id}, "workspace_id": bots.workspace_id}
    )
    assert await bots.bot_texts(first.conversation.id) == ["9 to 6.", "九点到六点。"]
    assert await bots.bot_texts(ada["_id"]) == ["九点到六点。", "九点到六点。"]


@pytest.mark.parametrize(
    "label",
    [{"en": "x" * 65}, "", {}, {"en": ""}, {"e n": "ok"}, 7],
)
async def test_a_bad_button_label_is_refused_naming_it(bots: BotSetup, label: object) -> None:
    step = {"id": "b", "type": "send_text", "text": "?", "buttons": [{"label": label}]}
    flow = {"id": "f", "trigger": {"kind": "first_message"}, "steps": [MENU["steps"][0], step]}
    with pytest.raises(InvalidInput) as refused:
        await bots.install(flows=[flow])
    assert refused.value.field == "flows.0.steps.1.buttons.0.label"
    assert refused.value.reason == "localized_label"


SIZE = {
    "id": "size",
    "trigger": {"kind": "keyword", "values": ["size"]},
    "steps": [
        {
            "id": "ask",
            "type": "ask",
            "attribute": "size",
            "validate": "choice",
            "text": {"en": "Which size?", "zh": "要哪个尺码？"},
            "choices": [{"en": "Small", "zh": "小号"}, {"en": "Large", "zh": "大号"}, "XL"],
        },
        {"id": "thanks", "type": "send_text", "text": {"en": "Noted.", "zh": "好的。"}},
    ],
}


@pytest.mark.parametrize(("answer", "stored"), [("大号", "Large"), ("small", "Small"), ("3", "XL")])
async def test_an_asks_choices_are_shown_in_the_customers_language_and_stored_as_one_value(
    bots: BotSetup, answer: str, stored: str
) -> None:
    """Regression (QA demo, left by the button labels): an ask step's choices were plain
    strings, English under a Chinese question."""
    await bots.install(knowledge_base=False, flows=[SIZE])
    asked = await ingest(
        bots.core, bots.channel, inbound(bots.channel, text="size 尺码", user=WANG)
    )
    await drain(bots.core)
    conversation_id = asked.conversation.id
    assert await labels_of_the_last_reply(bots, conversation_id) == ["小号", "大号", "XL"]
    await ingest(bots.core, bots.channel, inbound(bots.channel, text=answer, user=WANG))
    await drain(bots.core)
    customer = await bots.core.store.customers.find_one({"_id": asked.message.customer_id})
    assert customer is not None and customer["attributes"]["size"] == stored
    assert (await bots.bot_texts(conversation_id))[-1] == "好的。"
