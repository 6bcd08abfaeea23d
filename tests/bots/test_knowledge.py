"""The knowledge base answers FAQ questions in Chinese and English and knows when it can't."""

from __future__ import annotations

from kith.bots.knowledge import ArticleIn, KnowledgeBase
from kith.bots.store import save_article
from tests.bots.conftest import ZH_USER, BotSetup


async def _articles(bots: BotSetup) -> None:
    for title, questions, answer in [
        (
            "Shipping",
            [
                "How long does shipping take?",
                "When will my parcel arrive?",
                "发货要多久？",
                "多久能到货？",
            ],
            {"en": "Shipping takes 3 to 5 days.", "zh": "发货后3到5天送达。"},
        ),
        (
            "Returns",
            ["How do I return an item?", "Can I get a refund?", "怎么退货？", "可以退款吗？"],
            {"en": "Returns are free within 30 days.", "zh": "30天内免费退货。"},
        ),
    ]:
        await save_article(
            bots.core,
            bots.workspace_id,
            ArticleIn(title=title, questions=questions, answer=answer),
        )


async def test_faq_answers_in_both_languages(bots: BotSetup) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    en = await bots.say("how long does shipping take")
    zh = await bots.say("请问怎么退货", user=ZH_USER)
    assert await bots.bot_texts(en.conversation.id) == ["Shipping takes 3 to 5 days."]
    assert await bots.bot_texts(zh.conversation.id) == ["30天内免费退货。"]


async def test_unrelated_question_is_not_answered_from_the_faq(bots: BotSetup) -> None:
    await bots.install(flows=[])
    await _articles(bots)
    other = await bots.say("my cat is sick")
    [reply] = await bots.bot_texts(other.conversation.id)
    assert "didn't understand" in reply


async def test_intent_trigger_runs_a_flow_for_an_article(bots: BotSetup) -> None:
    await _articles(bots)
    returns = next(
        a
        for a in await KnowledgeBase().articles(bots.core, bots.workspace_id)
        if a.title == "Returns"
    )
    await bots.install(
        flows=[
            {
                "id": "refund",
                "trigger": {"kind": "intent", "values": [returns.id]},
                "steps": [{"id": "h", "type": "handoff", "reason": "refund question"}],
            }
        ]
    )
    asked = await bots.say("can I get a refund?")
    stored = await bots.core.store.conversations.find_one({"_id": asked.conversation.id})
    assert "handoff" in stored["labels"]


async def test_embedding_matcher_is_used_when_an_encoder_is_given(bots: BotSetup) -> None:
    """With an encoder, scores come from its vectors (here a stand-in with known geometry)."""

    def embed(texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] if ("ship" in t or "parcel" in t) else [0.0, 1.0] for t in texts]

    await _articles(bots)
    match = await KnowledgeBase(embed).best(bots.core, bots.workspace_id, "parcel status")
    assert match is not None and match.article.title == "Shipping" and match.score == 1.0


async def test_a_first_message_that_asks_a_faq_gets_greeting_and_answer(bots: BotSetup) -> None:
    await bots.install(
        flows=[
            {
                "id": "hi",
                "trigger": {"kind": "first_message"},
                "steps": [{"id": "s", "type": "send_text", "text": {"en": "Hi!", "zh": "您好！"}}],
            }
        ]
    )
    await _articles(bots)
    asked = await bots.say("怎么退货？", user=ZH_USER)
    assert await bots.bot_texts(asked.conversation.id) == ["您好！", "30天内免费退货。"]
