"""A refused bot save names every bad field in one answer: the model's refusals (a bad URL,
a timeout too long, an unknown trigger kind) together with the checks made by hand of every
part that is well-formed (a blank text, a jump to no step, a trigger without values, a bad
cron, a team or channel that does not exist). Regression: the model's refusals came alone
first, and an author who fixed them met the hand checks in a second round."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.bots.store import save_bot
from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.errors import KithError
from tests.support.cast import api_channel

SAY = {"id": "hi", "type": "send_text", "text": "Hi"}


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}


def broken_bot(channel_id: str) -> dict[str, Any]:
    """One bot wrong in both ways, in several flows."""
    steps = [
        {"id": "pic", "type": "send_image", "url": "not a url"},  # the model's
        {"id": "blank", "type": "send_text", "text": " "},  # by hand
        {"id": "jump", "type": "goto", "target": "nowhere"},  # by hand
        {"id": "call", "type": "webhook", "url": "https://example.com/h", "timeout": 99},
        {"id": "pass", "type": "handoff", "team_id": "no-such-team"},  # the store's
    ]
    return {
        "name": "Broken",
        "channel_ids": [channel_id, "elsewhere"],
        "flows": [
            {"id": "f", "trigger": {"kind": "keyword", "values": []}, "steps": steps},
            {"id": "g", "trigger": {"kind": "sometimes"}, "steps": [SAY]},
            {"id": "h", "trigger": {"kind": "schedule", "values": ["not cron"]}, "steps": [SAY]},
            {"id": "f", "trigger": {"kind": "first_message"}, "steps": [SAY]},
        ],
    }


EXPECTED = {
    "flows.0.steps.0.url": "url_parsing",
    "flows.0.steps.3.timeout": "less_than_equal",
    "flows.1.trigger.kind": "enum",
    "flows": "flow_id_twice",
    "flows.0.trigger.values": "trigger_values_required",
    "flows.0.steps.1.text": "text_required",
    "flows.0.steps.2": "no_step",
    "flows.2.trigger.values": "bad_cron",
    "channel_ids.1": "no_channel",
    "flows.0.steps.4.team_id": "no_team",
}


async def test_the_api_answers_the_models_and_the_hand_checks_refusals_at_once(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id, callback=False)
    answer = await client.post("/api/v1/bots", json=broken_bot(channel.id), headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert {f["field"]: f["reason"] for f in error["fields"]} == EXPECTED
    assert error["field"] == "flows.0.steps.0.url"  # the model's first, for one-field clients
    assert all(f["message"] for f in error["fields"])
    assert await core.store.collection("bots").count_documents({}) == 0

    saved = await client.post("/api/v1/bots", json={"name": "Fine"}, headers=auth)
    assert saved.status_code == 201, saved.text
    bot_id = saved.json()["id"]
    replaced = await client.put(f"/api/v1/bots/{bot_id}", json=broken_bot(channel.id), headers=auth)
    assert replaced.status_code == 422, replaced.text
    assert {f["field"] for f in replaced.json()["error"]["fields"]} == set(EXPECTED)
    assert (await client.get(f"/api/v1/bots/{bot_id}", headers=auth)).json()["name"] == "Fine"


async def test_a_body_that_is_not_an_object_is_refused_at_body(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.post("/api/v1/bots", json=["a", "bot"], headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "body"


async def test_a_step_refused_by_the_model_still_lands_a_jump_and_loops_wait(
    core: Core, workspace_id: str
) -> None:
    """A jump to a step the model refused for another reason is no dangling jump; loops are
    followed only once every step is well-formed (no refusal of a loop through a half-read
    step)."""
    steps = [
        {"id": "ask", "type": "send_image", "url": "nope"},
        {"id": "back", "type": "goto", "target": "ask"},
    ]
    flow = {"id": "f", "trigger": {"kind": "first_message"}, "steps": steps}
    with pytest.raises(KithError) as refused:
        await save_bot(core, workspace_id, {"name": "x", "flows": [flow]})
    found = [(f["field"], f["reason"]) for f in refused.value.to_dict()["fields"]]
    assert found == [("flows.0.steps.0.url", "url_parsing")]
