"""Steps that would fail in the customer's conversation are refused when the bot is saved
(QA pass 6: an empty "send text" saved, then silently stopped its flow for every customer)."""

from __future__ import annotations

import pytest

from kith.core.errors import KithError
from tests.bots.conftest import BotSetup


async def test_an_empty_text_and_a_button_that_does_nothing_are_refused(bots: BotSetup) -> None:
    steps = [
        {
            "id": "a",
            "type": "send_text",
            "text": {"en": " ", "zh": ""},
            "buttons": [{"label": "Go"}, {"label": "Shop", "url": "https://shop.example"}],
        },
        {"id": "b", "type": "ask", "text": "", "attribute": "email"},
        {"id": "c", "type": "send_text", "text": "Fine"},
    ]
    flow = {"id": "f", "trigger": {"kind": "keyword", "values": ["menu"]}, "steps": steps}
    with pytest.raises(KithError) as refused:
        await bots.install(flows=[flow])
    found = [(f["field"], f["reason"]) for f in refused.value.to_dict()["fields"]]
    assert found == [
        ("flows.0.steps.0.text", "text_required"),
        ("flows.0.steps.0.buttons.0", "button_does_nothing"),
        ("flows.0.steps.1.text", "text_required"),
    ]
    assert await bots.core.store.collection("bots").count_documents({}) == 0


async def test_a_trigger_that_could_never_fire_is_refused(bots: BotSetup) -> None:
    """QA (pass 6): a keyword trigger with no values was saved; its flow could never start."""
    step = {"id": "s", "type": "send_text", "text": "Hi"}
    flows = [
        {"id": "k", "trigger": {"kind": "keyword", "values": []}, "steps": [step]},
        {"id": "w", "trigger": {"kind": "first_message"}, "steps": [step]},  # needs none
        {"id": "b", "trigger": {"kind": "button"}, "steps": [step]},
    ]
    with pytest.raises(KithError) as refused:
        await bots.install(flows=flows)
    found = [(f["field"], f["reason"]) for f in refused.value.to_dict()["fields"]]
    assert found == [
        ("flows.0.trigger.values", "trigger_values_required"),
        ("flows.2.trigger.values", "trigger_values_required"),
    ]
