"""A customer asks for a person in their own words, and the bot hands off; narration and
questions that only mention people stay the bot's. Regression (QA, agent probe #4): "I want
to talk to a human" got "Did you mean…", "agent please" and "speak to someone" the greeting."""

from __future__ import annotations

import pytest

from kith.bots.asking_for_person import asks_for_person
from kith.core.conversations import get_conversation
from tests.bots.conftest import BotSetup

ASKING = [
    "human",
    "Agent.",
    "人工",
    "I want to talk to a human",
    "agent please",
    "speak to someone",
    "Can I speak to a real person?",
    "I'd like a human",
    "put me through to customer service",
    "转人工服务",
    "我要找人工",
    "帮我联系客服",
    "I have been waiting for an hour about order 1042, can I talk to a person now?",
]
NOT_ASKING = [
    "I spoke to an agent yesterday about order 1042",
    "I need support with my kettle",
    "Is your support team open on Sunday?",
    "I want to return my order.",
    "The person at the door said it was late",
    "客服电话是多少",  # a question the FAQ answers
    "I talked to a human yesterday and they said it shipped",
]


@pytest.mark.parametrize("text", ASKING)
def test_these_ask_for_a_person(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", NOT_ASKING)
def test_these_do_not(text: str) -> None:
    assert not asks_for_person(text)


async def test_asked_in_a_sentence_the_bot_hands_off(bots: BotSetup) -> None:
    await bots.install(knowledge_base=False, flows=[])
    asked = await bots.say("I want to talk to a human")
    conversation = await get_conversation(bots.core, bots.workspace_id, asked.conversation.id)
    assert "handoff" in conversation.labels
