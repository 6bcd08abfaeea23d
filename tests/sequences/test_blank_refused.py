"""A sequence's name and its send steps' texts may not be blank: 422 naming the field with
the reason `blank` (QA pass 11, M2: a blank name made a link with no text in the list, and a
blank step text failed every customer). Names are stored stripped."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from tests.sequences.conftest import WELCOME
from tests.support.cast import api_token

SEQUENCES = "/api/v1/sequences"


@pytest.fixture
async def auth(score: Core, workspace_id: str) -> dict[str, str]:
    return {"authorization": f"Bearer {await api_token(score, workspace_id)}"}


def body(name: str = "Welcome", text: dict[str, str] | None = None) -> dict[str, Any]:
    out = copy.deepcopy(WELCOME) | {"name": name}
    if text is not None:
        out["steps"][0]["message"]["text"] = text
    return out


def refused(answer: httpx.Response) -> list[tuple[str, str | None]]:
    assert answer.status_code == 422, answer.text
    return [(f["field"], f["reason"]) for f in answer.json()["error"]["fields"]]


@pytest.mark.parametrize("name", ["   ", "", "\t\n"])
async def test_a_blank_name_is_refused(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str], name: str
) -> None:
    answer = await client.post(SEQUENCES, json=body(name), headers=auth)
    assert refused(answer) == [("name", "blank")]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ({"en": ""}, "steps.0.message.text.en"),
        ({"en": "   "}, "steps.0.message.text.en"),
        ({"en": "Hi", "zh": " \n"}, "steps.0.message.text.zh"),
    ],
)
async def test_a_blank_step_text_is_refused(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str], text: dict[str, str], field: str
) -> None:
    answer = await client.post(SEQUENCES, json=body(text=text), headers=auth)
    assert refused(answer) == [(field, "blank")]
    assert (await client.get(SEQUENCES, headers=auth)).json()["items"] == []


async def test_a_name_is_stored_stripped(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.post(SEQUENCES, json=body("  Welcome  "), headers=auth)
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "Welcome"
