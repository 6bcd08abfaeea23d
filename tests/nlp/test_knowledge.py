"""The FAQ matcher with the real encoder: paraphrases in Chinese and English match, small
talk does not (the threshold is calibrated on e5's similarity scale)."""

from __future__ import annotations

import pytest

from kith.bots.examples import load
from kith.bots.flows import BotDefinition
from kith.bots.knowledge import ArticleIn, KnowledgeBase
from kith.bots.store import save_article
from kith.core.context import Core
from kith.nlp.feature import knowledge_embedder

THRESHOLD = BotDefinition(name="x").kb_threshold


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("when does my package come", "Shipping times"),
        ("can I return these shoes?", "Returns"),
        ("请问怎么退货", "Returns"),
        ("I want to return my kettle", "Returns"),  # the demo's first try
        ("我想退掉这个水壶", "Returns"),
        ("什么时候发货", "Shipping times"),
        ("are you open on saturday", "Opening hours"),
        ("my cat is sick", None),
        ("你好", None),
        ("what's the weather", None),
        ("I want to buy a kettle", None),  # "I want to …" is not a return
        ("我想买一个水壶", None),
    ],
)
async def test_faq_matches_paraphrases_and_ignores_small_talk(
    core: Core, workspace_id: str, analyzer: object, question: str, title: str | None
) -> None:
    for article in load("faq"):
        await save_article(core, workspace_id, ArticleIn.model_validate(article))
    match = await KnowledgeBase(knowledge_embedder(analyzer)).best(core, workspace_id, question)
    assert match is not None
    if title is None:
        assert match.score < THRESHOLD, (question, match.article.title, match.score)
    else:
        assert match.article.title == title and match.score >= THRESHOLD, match.score
