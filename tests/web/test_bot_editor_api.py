"""What the bot editor reads and what it is told: `/app/api/bot-step-types` (each installed
step type's schema and the fields that name a step), and a refused save that names every bad
field at once, so that the form marks them all (see `test_bot_editor_browser.py`).

admin, alice (an agent) and mary (a marketer) are the cast of `tests/web/conftest.py`.
"""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from tests.web.conftest import Cast


def flow(flow_id: str, *steps: dict[str, Any], kind: str = "first_message") -> dict[str, Any]:
    return {"id": flow_id, "trigger": {"kind": kind}, "steps": list(steps)}


SAY = {"id": "hi", "type": "send_text", "text": "Hi"}


async def test_the_step_types_come_with_their_schemas_and_step_references(
    cast: Cast, browser
) -> None:
    mary = await browser("mary")  # marketers read bots, so they read their forms too
    answer = await mary.api("GET", "/bot-step-types")
    assert answer.status_code == 200, answer.text
    types = {item["type"]: item for item in answer.json()["items"]}
    # the built-in ones and those features add (tickets, orders, sequences)
    assert {"send_text", "ask", "branch", "handoff", "goto", "create_ticket", "enrol"} <= set(types)
    assert "create_order" in types
    send_text = types["send_text"]["schema"]
    assert send_text["required"] == ["id", "text"]
    assert send_text["properties"]["buttons"]["items"] == {"$ref": "#/$defs/BotButton"}
    assert types["ask"]["schema"]["properties"]["validate"]["$ref"] == "#/$defs/Validation"
    refs = {name: item["step_refs"] for name, item in types.items() if item["step_refs"]}
    assert refs == {
        "ask": ["on_give_up"],
        "branch": ["cases.*.goto", "otherwise"],
        "goto": ["target"],
        "webhook": ["on_error"],
    }


async def test_an_agent_does_not_read_the_step_types(cast: Cast, browser) -> None:
    alice = await browser("alice")
    assert (await alice.api("GET", "/bot-step-types")).status_code == 403


async def test_a_save_names_every_bad_step_field_at_once(cast: Cast, browser, core: Core) -> None:
    admin = await browser("admin")
    steps = [
        SAY,
        {"id": "pic", "type": "send_image", "url": "not a url"},
        {"id": "call", "type": "webhook", "url": "https://example.com/hook", "timeout": 99},
    ]
    answer = await admin.api("POST", "/bots", json={"name": "x", "flows": [flow("f", *steps)]})
    assert answer.status_code == 422, answer.text
    fields = {f["field"]: f["reason"] for f in answer.json()["error"]["fields"]}
    assert fields == {
        "flows.0.steps.1.url": "url_parsing",
        "flows.0.steps.2.timeout": "less_than_equal",
    }
    assert await core.store.collection("bots").count_documents({}) == 0


async def test_a_save_names_every_refusal_of_the_hand_checks_at_once(
    cast: Cast, browser, core: Core
) -> None:
    """Regression: the checks made by hand (jumps, loops, teams) stopped at the first."""
    admin = await browser("admin")
    jumps = flow(
        "jumps",
        {"id": "a", "type": "goto", "target": "nowhere"},
        {"id": "b", "type": "ask", "text": "?", "attribute": "x", "on_give_up": "gone"},
    )
    looping = flow("loop", SAY, {"id": "back", "type": "goto", "target": "hi"})
    body = {"name": "x", "flows": [jumps, looping, flow("jumps", SAY)]}
    answer = await admin.api("POST", "/bots", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    found = {f["field"]: (f["reason"], f["limits"]) for f in error["fields"]}
    assert found == {
        "flows": ("flow_id_twice", {"flow": "jumps"}),
        "flows.0.steps.0": ("no_step", {"step": "nowhere"}),
        "flows.0.steps.1": ("no_step", {"step": "gone"}),
        "flows.1.steps": ("bot_loop", {"step": "hi"}),
    }
    assert error["field"] == "flows"  # the first, for a client that reads one

    handoff = {"id": "h", "type": "handoff", "team_id": "no-such-team"}
    body = {
        "name": "x",
        "team_id": "nor-this-one",
        "channel_ids": [cast.shop.id, "elsewhere"],
        "flows": [flow("f", SAY, handoff)],
    }
    answer = await admin.api("POST", "/bots", json=body)
    assert answer.status_code == 422, answer.text
    found = {f["field"]: f["reason"] for f in answer.json()["error"]["fields"]}
    assert found == {
        "channel_ids.1": "no_channel",
        "team_id": "no_team",
        "flows.0.steps.1.team_id": "no_team",
    }
    assert await core.store.collection("bots").count_documents({}) == 0


async def test_a_schedule_names_its_zone_and_its_cron_together(cast: Cast, browser) -> None:
    admin = await browser("admin")
    trigger = {"kind": "schedule", "values": ["not cron"], "timezone": "Mars/Olympus"}
    body = {"name": "x", "flows": [{"id": "f", "trigger": trigger, "steps": [SAY]}]}
    answer = await admin.api("POST", "/bots", json=body)
    assert answer.status_code == 422, answer.text
    found = {f["field"]: f["reason"] for f in answer.json()["error"]["fields"]}
    assert found == {
        "flows.0.trigger.timezone": "unknown_timezone",
        "flows.0.trigger.values": "bad_cron",
    }
