"""A question that almost matches the FAQ gets "did you mean" buttons for its closest articles
(a two-stage fallback, as Rasa and Zendesk's answer bot do) instead of "Sorry, I didn't
understand"; pressing or typing one answers it."""

from __future__ import annotations

import math

from kith.bots.engine import BotEngine
from kith.bots.knowledge import KnowledgeBase, asks_something
from kith.core.context import Core
from kith.core.features import install
from tests.bots.conftest import ZH_USER, BotSetup
from tests.bots.test_knowledge import _articles
from tests.support.cast import api_channel


async def _last_reply(bots: BotSetup, conversation_id: str) -> dict[str, object]:
    return (await bots.outbound(conversation_id))[-1]


async def test_a_near_miss_offers_the_closest_article_and_pressing_it_answers(
    bots: BotSetup,
) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    asked = await bots.say("how many days until my parcel gets here")
    offer = await _last_reply(bots, asked.conversation.id)
    assert offer["text"] == "Did you mean one of these?"
    labels = [b["label"] for b in offer["buttons"]]
    assert labels == ["When will my parcel arrive?", "Talk to a person"]
    await bots.say("x", payload=offer["buttons"][0]["payload"])
    assert (await bots.bot_texts(asked.conversation.id))[-1] == "Shipping takes 3 to 5 days."


async def test_typing_the_suggestion_number_answers_it_in_chinese(bots: BotSetup) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    asked = await bots.say("我的包裹多久能到啊", user=ZH_USER)
    offer = await _last_reply(bots, asked.conversation.id)
    assert offer["text"] == "您是想问下面的问题吗？"
    assert [b["label"] for b in offer["buttons"]] == ["多久能到货？", "人工客服"]
    await bots.say("1", user=ZH_USER)
    assert (await bots.bot_texts(asked.conversation.id))[-1] == "发货后3到5天送达。"


async def test_small_talk_gets_no_suggestions(bots: BotSetup) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    other = await bots.say("what is the weather")
    reply = await _last_reply(bots, other.conversation.id)
    assert "didn't understand" in str(reply["text"])
    assert [b["label"] for b in reply["buttons"]] == ["Talk to a person"]


async def test_a_second_miss_still_hands_off_after_a_suggestion(bots: BotSetup) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    first = await bots.say("how many days until my parcel gets here")
    await bots.say("what is the weather")
    stored = await bots.core.store.conversations.find_one({"_id": first.conversation.id})
    assert "handoff" in stored["labels"]


def _embed(texts: list[str]) -> list[list[float]]:
    """Known geometry: shipping questions along x, others along y; "almost" sits at cosine
    0.88 from shipping (under the 0.9 threshold, within the margin), "far" at 0.85."""

    def at(cosine: float) -> list[float]:
        return [cosine, math.sqrt(1 - cosine * cosine)]

    def one(text: str) -> list[float]:
        if "almost" in text:
            return at(0.88)
        if "far" in text:
            return at(0.85)
        shipping = any(w in text for w in ("ship", "parcel", "发货", "到货"))
        return [1.0, 0.0] if shipping else [0.0, 1.0]

    return [one(t) for t in texts]


async def test_with_an_encoder_the_margin_is_on_its_scale(core: Core, workspace_id: str) -> None:
    install(core, [BotEngine(KnowledgeBase(_embed)).feature()])
    channel, _ = await api_channel(core, workspace_id, callback=False)
    bots = BotSetup(core, channel, workspace_id)
    await bots.install(flows=[])
    await _articles(bots)
    almost = await bots.say("almost a shipping question", who="ada")
    far = await bots.say("far from anything", who="grace")
    short = await bots.say("almost", who="li")  # one word: small talk, not a near miss
    offer = await _last_reply(bots, almost.conversation.id)
    assert offer["text"] == "Did you mean one of these?"
    assert len(offer["buttons"]) == 2  # the shipping article (Returns is at 0.47) and a person
    for missed in (far, short):
        reply = await _last_reply(bots, missed.conversation.id)
        assert reply["text"] in (
            "Sorry, I didn't understand. Reply 'human' to talk to a person.",
            "抱歉，我没有理解。回复“人工”联系客服。",
        )


async def test_ranked_gives_each_article_once_best_first(bots: BotSetup) -> None:
    await _articles(bots)
    ranked = await KnowledgeBase(_embed).ranked(bots.core, bots.workspace_id, "almost")
    assert [(m.article.title, round(m.score, 2)) for m in ranked] == [
        ("Shipping", 0.88),
        ("Returns", 0.47),
    ]


def test_what_counts_as_asking_something() -> None:
    assert not any(map(asks_something, ["hello", "thanks!", "谢谢", "你好", "ok 好的"]))
    assert all(map(asks_something, ["do you ship abroad", "我的茶叶什么时候到", "可以开发票吗"]))


async def test_a_near_miss_as_the_first_message_is_greeted_then_offered(bots: BotSetup) -> None:
    """QA (pass 6): a first message that nearly asks a FAQ got the greeting only."""
    greet = {"id": "hi", "type": "send_text", "text": "Hi! I'm the shop assistant."}
    await bots.install(flows=[{"id": "w", "trigger": {"kind": "first_message"}, "steps": [greet]}])
    await _articles(bots)
    asked = await bots.say("how many days until my parcel gets here")
    texts = await bots.bot_texts(asked.conversation.id)
    assert texts == ["Hi! I'm the shop assistant.", "Did you mean one of these?"]


async def test_small_talk_is_answered_politely_and_never_hands_off(bots: BotSetup) -> None:
    """QA (pass 6): "thanks!" then "hi there" counted as two misses and opened an urgent
    ticket. Courtesies get a courtesy (an acknowledgement gets nothing) and no miss."""
    await bots.install(flows=[])
    await _articles(bots)
    first = await bots.say("thanks!")
    for text in ("hi there", "ok", "bye"):
        await bots.say(text)
    assert await bots.bot_texts(first.conversation.id) == [
        "You're welcome!",
        "Hi! How can I help you?",
        "Goodbye! Write to us any time.",
    ]
    zh = await bots.say("谢谢", user=ZH_USER)
    assert await bots.bot_texts(zh.conversation.id) == ["不客气！"]
    stored = await bots.core.store.conversations.find_one({"_id": first.conversation.id})
    assert "handoff" not in stored["labels"]
    await bots.say("my cat is sick")  # a real miss still counts: once, then a person
    await bots.say("my dog is sick too")
    stored = await bots.core.store.conversations.find_one({"_id": first.conversation.id})
    assert "handoff" in stored["labels"]
