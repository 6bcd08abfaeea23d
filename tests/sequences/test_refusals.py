"""How the sequences API refuses, for its clients and for the builder page: Kith's own
refusals carry a `reason` and its values (`limits`), as pydantic's do, so that the page says
them in its own language (`reason_<reason>` in both tables); a step id's refusal says what it
may hold; moves read as English; a body not sent as JSON is a 415 saying so; booleans are
strict; and a save that changes nothing makes no new version."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.sequences.store import versions
from kith.web.inbox.i18n import messages
from tests.sequences.conftest import WELCOME
from tests.support.cast import api_token

SEQUENCES = "/api/v1/sequences"


@pytest.fixture
async def auth(score: Core, workspace_id: str) -> dict[str, str]:
    return {"authorization": f"Bearer {await api_token(score, workspace_id)}"}


def welcome(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(WELCOME), **changes}


def send(step_id: str, text: str) -> dict[str, Any]:
    return {"id": step_id, "type": "send", "message": {"text": {"en": text}}}


def branch_to(target: str) -> list[dict[str, Any]]:
    return [send("a", "x"), {"id": "b", "type": "branch", "since": "clicked", "then": target}]


OWN_REFUSALS = [
    ({"steps": [send("a", "Hi {{ customer.nam }}")]}, "steps.0.message.text.en",
     "unknown_variable", {"variable": "customer.nam", "line": 1, "column": 16}),
    ({"steps": [send("a", "Hi {{ customer.name ")]}, "steps.0.message.text.en",
     "template_unclosed", {"line": 1}),
    ({"steps": branch_to("nowhere")}, "steps.1.then", "no_step", {"step": "nowhere"}),
    ({"steps": branch_to("a")}, "steps.1.then", "loop_without_wait", {"step": "a"}),
    ({"steps": [{"id": "w", "type": "wait", "duration": "P400D"}]}, "steps.0.duration",
     "wait_length", {}),
    ({"steps": [{"id": "w", "type": "wait"}]}, "steps.0", "one_of",
     {"names": "duration, until"}),
    ({"steps": [send("a", "x"), {"id": "Wait One", "type": "wait", "duration": "P1D"}]},
     "steps.1.id", "step_id_format", {"max_length": 48}),
    ({"steps": [send("a", "x"), send("a", "y")]}, "steps.1.id", "step_id_twice", {"step": "a"}),
    # Regression (QA: "未保存： write the message in at least one language (en or zh)").
    ({"steps": [{"id": "a", "type": "send", "message": {"text": {}}}]},
     "steps.0.message.text", "empty_message", {}),
    ({"steps": [{"id": "n", "type": "notify_team", "team_id": "nope", "text": "hi"}]},
     "steps.0.team_id", "no_team", {}),
    ({"steps": [{"id": "h", "type": "webhook", "url": "ftp://example.com/x"}]}, "steps.0.url",
     "url_scheme", {}),
    ({"channels": ["pigeon"]}, "channels.0", "unknown_channel_type", {"channel_type": "pigeon"}),
    # Regression (a goal naming no segment said "no such segment"): said as the goal's.
    ({"goal": {"segment_id": "nope"}}, "goal.segment_id", "goal_segment_gone", {}),
    ({"goal": {"segment_id": ""}}, "goal.segment_id", "goal_segment_missing", {}),
    ({"goal": {"segment_id": "  "}}, "goal.segment_id", "goal_segment_missing", {}),
    ({"triggers": [{"kind": "community_joined", "value": "nope"}]}, "triggers.0.value",
     "no_community", {}),
    ({"goal": {}}, "goal", "one_of", {"names": "segment_id, tag, order_placed"}),
    ({"triggers": [{"kind": "tag_added"}]}, "triggers.0.value", "trigger_value",
     {"kind": "tag_added"}),
    ({"triggers": [{"kind": "referrals_reached", "value": "x"}]}, "triggers.0.value",
     "referrals_count", {}),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "field", "reason", "values"), OWN_REFUSALS)
async def test_own_refusals_carry_a_reason_and_values_both_languages_word(
    score: Core,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    changes: dict[str, Any],
    field: str,
    reason: str,
    values: dict[str, Any],
) -> None:
    """Regression (QA sequences #8): the builder's own messages stayed English in Chinese."""
    answer = await client.post(SEQUENCES, json=welcome(**changes), headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == (field, reason), answer.text
    assert error["limits"] | values == error["limits"]
    english, chinese = messages("en")[f"reason_{reason}"], messages("zh")[f"reason_{reason}"]
    assert chinese != english
    for template in (english, chinese):  # every value the page fills in is in the answer
        assert set(re.findall(r"\{(\w+)\}", template)) <= error["limits"].keys()


async def test_a_step_id_refusal_says_which_characters_are_allowed(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Regression (QA sequences #8): "Does not have the expected format." and nothing more."""
    steps = [send("a", "x"), {"id": "Wait One", "type": "wait", "duration": "P1D"}]
    answer = await client.post(SEQUENCES, json=welcome(steps=steps), headers=auth)
    message = answer.json()["error"]["message"]
    assert "lowercase letters, digits, '-' or '_'" in message, message
    assert "小写字母" in messages("zh")["reason_step_id_format"]
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    wait = next(v for k, v in schema.items() if k.startswith("WaitStep"))
    assert wait["properties"]["id"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,47}$"


async def test_refused_moves_and_edits_read_as_english(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    made = await client.post(SEQUENCES, json=welcome(), headers=auth)
    base = f"{SEQUENCES}/{made.json()['id']}"
    await client.post(f"{base}/activate", headers=auth)
    again = (await client.post(f"{base}/activate", headers=auth)).json()["error"]
    assert again["message"] == "an active sequence cannot become active; allowed: archived, paused"
    assert (again["reason"], again["limits"]["status"]) == ("transition_refused", "active")
    await client.post(f"{base}/archive", headers=auth)
    revived = (await client.post(f"{base}/activate", headers=auth)).json()["error"]
    assert revived["message"] == "an archived sequence cannot become active; allowed: none"
    edited = (await client.put(base, json=welcome(), headers=auth)).json()["error"]
    assert (edited["field"], edited["reason"]) == ("status", "archived")


@pytest.mark.parametrize("content_type", ["text/plain", None])
async def test_a_body_not_sent_as_json_is_refused_for_its_content_type(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str], content_type: str | None
) -> None:
    """Regression (QA sequences #8): "Input should be a valid dictionary" on `body`."""
    headers = auth | ({"content-type": content_type} if content_type else {})
    body = httpx.Request("POST", "/", json=welcome()).content
    answer = await client.post(SEQUENCES, content=body, headers=headers)
    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("unsupported_media_type", "body")
    assert "Content-Type: application/json" in error["message"]
    assert error["limits"] == {"content_type": content_type or "none"}
    sent_as_json = await client.post(SEQUENCES, json=welcome(), headers=auth)
    assert sent_as_json.status_code == 201, sent_as_json.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stop_on_reply": "yes"}, "stop_on_reply"),
        ({"stop_on_reply": 1}, "stop_on_reply"),
        ({"goal": {"order_placed": 1}}, "goal.order_placed"),
    ],
)
async def test_booleans_are_strict(
    score: Core,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    changes: dict[str, Any],
    field: str,
) -> None:
    answer = await client.post(SEQUENCES, json=welcome(**changes), headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


async def test_an_unchanged_save_of_an_active_sequence_makes_no_new_version(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Regression (QA sequences, suggestions): every PUT made a version, changed or not. The
    builder saves what it loaded: the answer's own shape (`until: null`, `else`) is no change."""
    made = (await client.post(SEQUENCES, json=welcome(), headers=auth)).json()
    base = f"{SEQUENCES}/{made['id']}"
    await client.post(f"{base}/activate", headers=auth)
    shown = (await client.get(base, headers=auth)).json()
    said = {k: shown[k] for k in ("name", "steps", "channels", "stop_on_reply", "goal")}
    said |= {k: shown[k] for k in ("triggers", "reenrol_after_days")}
    for _ in range(2):
        saved = await client.put(base, json=said, headers=auth)
        assert saved.status_code == 200, saved.text
        assert (saved.json()["version"], saved.json()["updated_at"]) == (1, shown["updated_at"])
    assert await versions(score).count_documents({"sequence_id": made["id"]}) == 1
    renamed = await client.put(base, json=said | {"name": "Hello"}, headers=auth)
    assert renamed.json()["version"] == 2
