"""Regression (QA7 M3): after a "did you mean", "thanks a lot" counted as the second miss and
handed the visitor to a person; "thanks, you're great" got "Sorry, I didn't understand".
Courtesies are recognised however they are phrased (words around them, punctuation, emoji,
full-width forms, case) and never count as a miss; a question that merely starts with
thanks is still a question."""

from __future__ import annotations

import pytest

from kith.core.models import InboundUser
from tests.bots.conftest import ZH_USER, BotSetup
from tests.bots.test_knowledge import _articles

NEAR_MISS = "how many days until my parcel gets here"  # "did you mean": the first miss
NEAR_MISS_ZH = "我的包裹多久能到啊"


async def _labels(bots: BotSetup, conversation_id: str) -> list[str]:
    stored = await bots.core.store.conversations.find_one({"_id": conversation_id})
    assert stored is not None
    return list(stored.get("labels", []))


async def test_thanks_a_lot_after_a_suggestion_is_thanked_not_handed_off(bots: BotSetup) -> None:
    """The QA's steps on the widget: hello, an FAQ answer, a near miss, then thanks."""
    await bots.install(flows=[])
    await _articles(bots)
    first = await bots.say("hello")
    await bots.say("how long does shipping take?")
    await bots.say(NEAR_MISS)

    await bots.say("thanks a lot")

    texts = await bots.bot_texts(first.conversation.id)
    assert texts[-2:] == ["Did you mean one of these?", "You're welcome!"]
    assert "handoff" not in await _labels(bots, first.conversation.id)
    await bots.say("what is the weather")  # the thanks did not clear the miss before it
    assert "handoff" in await _labels(bots, first.conversation.id)


@pytest.mark.parametrize(
    ("text", "user", "reply"),
    [
        ("thanks a lot", None, "You're welcome!"),
        ("thanks, you're great", None, "You're welcome!"),
        ("thank you so much!", None, "You're welcome!"),
        ("Thank You So Much!!! 😊", None, "You're welcome!"),
        ("ｔｈａｎｋｓ！", None, "You're welcome!"),
        ("thanks for your help 🙏🏻", None, "You're welcome!"),
        ("cheers", None, "You're welcome!"),
        ("ty", None, "You're welcome!"),
        ("ok thanks, bye", None, "Goodbye! Write to us any time."),
        ("Hey there 👋", None, "Hi! How can I help you?"),
        ("多谢", ZH_USER, "不客气！"),
        ("谢啦", ZH_USER, "不客气！"),
        ("感谢你的帮助", ZH_USER, "不客气！"),
        ("非常感谢！！", ZH_USER, "不客气！"),
        ("好的，谢谢您。", ZH_USER, "不客气！"),
        ("在吗？", ZH_USER, "您好！请问有什么可以帮您？"),
    ],
)
async def test_a_courtesy_however_phrased_gets_a_courtesy_and_is_no_miss(
    bots: BotSetup, text: str, user: InboundUser | None, reply: str
) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    first = await bots.say(NEAR_MISS_ZH if user else NEAR_MISS, user=user)

    await bots.say(text, user=user)

    assert (await bots.bot_texts(first.conversation.id))[-1] == reply
    assert "handoff" not in await _labels(bots, first.conversation.id)


@pytest.mark.parametrize("text", ["👍🏻", "ok 👌", "好的好的", "no thanks", "😊"])
async def test_an_acknowledgement_gets_nothing_and_is_no_miss(bots: BotSetup, text: str) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    first = await bots.say(NEAR_MISS)

    await bots.say(text)

    assert await bots.bot_texts(first.conversation.id) == ["Did you mean one of these?"]
    assert "handoff" not in await _labels(bots, first.conversation.id)


async def test_a_question_that_starts_with_thanks_is_answered_by_the_faq(bots: BotSetup) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    asked = await bots.say("thank you! how long does shipping take?")
    assert await bots.bot_texts(asked.conversation.id) == ["Shipping takes 3 to 5 days."]


@pytest.mark.parametrize(
    "text", ["thanks, but where is my order?", "谢谢，但是我的订单在哪里？", "thanks for nothing"]
)
async def test_a_question_with_thanks_in_it_still_counts_as_a_miss(
    bots: BotSetup, text: str
) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    first = await bots.say(NEAR_MISS)

    await bots.say(text)

    assert "handoff" in await _labels(bots, first.conversation.id)
