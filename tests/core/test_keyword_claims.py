"""A word another feature answers is refused as a bot's keyword trigger, whichever feature
declares it (`Feature.keywords`): the bots feature knows no other feature by name."""

from __future__ import annotations

import pytest

from kith.bots.flows import BotDefinition
from kith.bots.store import save_bot
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.features import Feature, install, keyword_claim


async def survey_scores(core: Core, workspace_id: str, word: str) -> str | None:
    """A survey feature answering a lone score from 1 to 5, in one workspace only."""
    if workspace_id == "ws-survey" and word.strip() in {"1", "2", "3", "4", "5"}:
        return "a survey score"
    return None


def bot(*words: str) -> BotDefinition:
    step = {"id": "say", "type": "send_text", "text": "Hi"}
    flow = {"id": "f", "trigger": {"kind": "keyword", "values": list(words)}, "steps": [step]}
    return BotDefinition.model_validate({"name": "x", "flows": [flow]})


async def test_a_declared_keyword_is_refused_as_a_trigger_naming_the_value(core: Core) -> None:
    install(core, [Feature(name="survey", keywords=(survey_scores,))])
    assert await keyword_claim(core, "ws-survey", " 3 ") == "a survey score"
    assert await keyword_claim(core, "ws-survey", "hello") is None
    with pytest.raises(InvalidInput) as refused:
        await save_bot(core, "ws-survey", bot("hello", "3"))
    assert refused.value.field == "flows.0.trigger.values.1"
    assert "'3' is a survey score" in str(refused.value)
    assert await core.store.collection("bots").count_documents({}) == 0
    # another workspace's words are its own
    saved = await save_bot(core, "ws-other", bot("3"))
    assert saved.flows[0].trigger.values == ["3"]


async def test_without_a_claiming_feature_any_word_is_a_trigger(core: Core) -> None:
    assert await keyword_claim(core, "ws-survey", "STOP") is None
    saved = await save_bot(core, "ws-survey", bot("STOP"))
    assert saved.flows[0].trigger.values == ["STOP"]
