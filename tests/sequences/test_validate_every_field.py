"""A sequence definition with several faults is refused once, naming every one of them: the
builder marks them all after one save instead of one per save. The first (`field`, `reason`)
is the one a single-fault check found before; the others follow in the definition's order."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.segments.filters import parse
from kith.segments.records import installed_fields
from tests.sequences.conftest import WELCOME
from tests.support.cast import api_token

SEQUENCES = "/api/v1/sequences"


@pytest.fixture
async def auth(score: Core, workspace_id: str) -> dict[str, str]:
    return {"authorization": f"Bearer {await api_token(score, workspace_id)}"}


def send(step_id: str, text: str) -> dict[str, Any]:
    return {"id": step_id, "type": "send", "message": {"text": {"en": text}}}


# A negative wait, a step id the model refuses and an unknown variable (QA demo probe #1).
MODEL_AND_TEMPLATE_FAULTS = [
    send("hello", "Hi {{ coupon }}"),
    {"id": "w", "type": "wait", "duration": "-P3D"},
    {"id": "Bad Id", "type": "send", "message": {"text": {"en": "{{ nope }}"}}},
    send("again", "Bye {{ customer.name }}"),
]
MODEL_AND_TEMPLATE_NAMED = [
    ("steps.1.duration", "wait_length"),
    ("steps.2.id", "step_id_format"),
    ("steps.0.message.text.en", "unknown_variable"),
]


def faulty() -> dict[str, Any]:
    """Every check by hand wrong once, in a definition pydantic accepts."""
    return {
        **copy.deepcopy(WELCOME),
        "channels": ["api", "pigeon"],
        "steps": [
            send("hello", "Hi {{ customer.nam }}"),
            {"id": "ask", "type": "branch", "since": "replied", "then": "nowhere", "else": "hello"},
            {"id": "hook", "type": "webhook", "url": "ftp://example.com/x"},
            {"id": "tell", "type": "notify_team", "team_id": "nope", "text": "hi"},
            send("ask", "again"),
        ],
        "goal": {"segment_id": "no-such-segment"},
        "triggers": [{"kind": "tag_added"}, {"kind": "referrals_reached", "value": "x"}],
    }


EVERY_FAULT = [
    ("steps.4.id", "step_id_twice"),
    ("channels.1", "unknown_channel_type"),
    ("steps.0.message.text.en", "unknown_variable"),
    ("steps.1.since", "branch_on_reply_stops"),  # stop_on_reply is on (the default)
    ("steps.1.then", "no_step"),
    ("steps.1.else", "loop_without_wait"),
    ("steps.2.url", "url_scheme"),
    ("steps.3.team_id", "no_team"),
    ("goal.segment_id", "goal_segment_gone"),
    ("triggers.0.value", "trigger_value"),
    ("triggers.1.value", "referrals_count"),
]


def named(answer: httpx.Response) -> list[tuple[str, str | None]]:
    return [(f["field"], f["reason"]) for f in answer.json()["error"]["fields"]]


async def test_a_definition_with_every_fault_is_refused_once_naming_them_all(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.post(SEQUENCES, json=faulty(), headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == EVERY_FAULT[0]  # the first, as before
    assert named(answer) == EVERY_FAULT
    by_field = {f["field"]: f for f in error["fields"]}
    assert by_field["steps.0.message.text.en"]["limits"]["variable"] == "customer.nam"
    assert by_field["triggers.0.value"]["limits"] == {"kind": "tag_added"}
    assert (await client.get(SEQUENCES, headers=auth)).json()["items"] == []  # nothing made


async def test_three_independent_faults_are_named_in_one_answer(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = {
        **copy.deepcopy(WELCOME),
        "steps": [send("a", "Hi {{ customer.nam }}"), *WELCOME["steps"][1:]],
        "goal": {"segment_id": "nope"},
        "triggers": [{"kind": "wechat_scene"}],
    }
    answer = await client.post(SEQUENCES, json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "steps.0.message.text.en"
    assert named(answer) == [
        ("steps.0.message.text.en", "unknown_variable"),
        ("goal.segment_id", "goal_segment_gone"),
        ("triggers.0.value", "trigger_value"),
    ]


async def test_an_edit_is_refused_naming_every_fault_and_changes_nothing(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    made = await client.post(SEQUENCES, json=copy.deepcopy(WELCOME), headers=auth)
    assert made.status_code == 201, made.text
    base = f"{SEQUENCES}/{made.json()['id']}"
    edit = {**copy.deepcopy(WELCOME), "channels": ["pigeon", "api", "owl"]}
    edit["steps"] = [
        *edit["steps"],
        {"id": "tell", "type": "notify_team", "team_id": "x", "text": "hi"},
    ]
    answer = await client.put(base, json=edit, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "channels.0"
    assert named(answer) == [
        ("channels.0", "unknown_channel_type"),
        ("channels.2", "unknown_channel_type"),
        ("steps.3.team_id", "no_team"),
    ]
    shown = (await client.get(base, headers=auth)).json()
    assert (shown["version"], shown["channels"]) == (1, ["api"])


async def test_one_fault_is_still_one_field(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = {**copy.deepcopy(WELCOME), "goal": {"segment_id": "nope"}}
    answer = await client.post(SEQUENCES, json=body, headers=auth)
    error = answer.json()["error"]
    assert (answer.status_code, error["field"], error["reason"]) == (
        422,
        "goal.segment_id",
        "goal_segment_gone",
    )
    assert named(answer) == [("goal.segment_id", "goal_segment_gone")]


async def test_every_fault_of_a_branchs_filter_is_named_within_the_step(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    conditions = [
        {"field": "bad key!", "op": "eq", "value": 1},
        {"field": "tags", "op": "nope", "value": "x"},
    ]
    branch = {"id": "ask", "type": "branch", "then": "nowhere"}
    body = {
        **copy.deepcopy(WELCOME),
        "steps": [send("a", "x"), {**branch, "filter": {"all": conditions}}],
    }
    answer = await client.post(SEQUENCES, json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    with pytest.raises(InvalidInput) as alone:  # what the segment filter check says of it
        parse({"all": conditions}, installed_fields(score))
    in_filter = [f"steps.1.{f.field}" for f in alone.value.fields]
    assert "steps.1.filter.all.0.field" in in_filter
    assert [field for field, _ in named(answer)] == ["steps.1.then", *in_filter]


async def test_model_faults_and_template_faults_are_named_in_one_answer(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Regression (QA demo probe, sequences #1): a negative wait, a step id the model refuses
    and `{{ coupon }}` in a send step: only the first two were named, the unknown variable on
    the next save. The well-formed send steps' texts are checked beside the model's refusals;
    a step the model refused is not read further (its texts are not checked)."""
    body = {**copy.deepcopy(WELCOME), "steps": copy.deepcopy(MODEL_AND_TEMPLATE_FAULTS)}
    answer = await client.post(SEQUENCES, json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    assert named(answer) == MODEL_AND_TEMPLATE_NAMED
    by_field = {f["field"]: f for f in answer.json()["error"]["fields"]}
    assert by_field["steps.0.message.text.en"]["limits"]["variable"] == "coupon"
    assert (await client.get(SEQUENCES, headers=auth)).json()["items"] == []  # nothing made


async def test_an_edit_names_model_and_template_faults_at_once(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    made = await client.post(SEQUENCES, json=copy.deepcopy(WELCOME), headers=auth)
    base = f"{SEQUENCES}/{made.json()['id']}"
    steps = [send("hello", "{{ coupon }}"), {"id": "w", "type": "wait", "duration": "P0D"}]
    answer = await client.put(base, json={**copy.deepcopy(WELCOME), "steps": steps}, headers=auth)
    assert answer.status_code == 422, answer.text
    assert named(answer) == [
        ("steps.1.duration", "wait_length"),
        ("steps.0.message.text.en", "unknown_variable"),
    ]
    schema = (await client.get("/openapi.json")).json()
    request = schema["paths"]["/api/v1/sequences/{sequence_id}"]["put"]["requestBody"]
    assert request["content"]["application/json"]["schema"]["$ref"].endswith("/SequenceIn")
