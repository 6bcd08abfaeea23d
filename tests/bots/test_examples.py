"""The shipped examples are valid and do what their names say."""

from __future__ import annotations

from kith.bots.examples import load
from kith.bots.flows import BotDefinition, validate_bot
from kith.bots.knowledge import ArticleIn
from kith.bots.steps import BUILT_IN
from kith.bots.store import save_article
from tests.bots.conftest import BotSetup


def test_examples_validate() -> None:
    validate_bot(BotDefinition.model_validate(load("shop_assistant")), BUILT_IN)
    assert all(ArticleIn.model_validate(a) for a in load("faq"))


async def test_shop_assistant_greets_collects_an_email_and_answers_faq(bots: BotSetup) -> None:
    await bots.install(**load("shop_assistant"))
    for article in load("faq"):
        await save_article(bots.core, bots.workspace_id, ArticleIn.model_validate(article))
    first = await bots.say("hello")
    await bots.say("Newsletter", payload="newsletter")
    await bots.say("ada@example.com")
    await bots.say("how long does shipping take?")
    texts = await bots.bot_texts(first.conversation.id)
    assert texts[0].startswith("Hi Ada Lovelace!")
    assert texts[1:] == [
        "What's your email address?",
        "Thanks! We'll write to ada@example.com.",
        "Orders ship within 24 hours and arrive in 3 to 5 working days.",
    ]
