"""A send step's buttons and image are links a customer opens: a sequence is refused naming
each bad one, as a broadcast's draft is (`MessageIn.refusals`), rather than sending a
`javascript:` button later. Found in a helper's review: only the texts were checked."""

from __future__ import annotations

import copy

import httpx
import pytest

from kith.core.context import Core
from tests.sequences.conftest import WELCOME
from tests.support.cast import api_token

SEQUENCES = "/api/v1/sequences"


@pytest.fixture
async def auth(score: Core, workspace_id: str) -> dict[str, str]:
    return {"authorization": f"Bearer {await api_token(score, workspace_id)}"}


def with_links(button: str, image: str) -> dict[str, object]:
    body = copy.deepcopy(WELCOME)
    body["steps"][2]["message"] |= {
        "buttons": [
            {"label": "Shop", "url": "https://shop.example/"},
            {"label": "Go", "url": button},
        ],
        "image": {"kind": "image", "url": image},
    }
    return body


async def test_a_send_step_with_bad_button_and_image_links_is_refused_naming_both(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.post(
        SEQUENCES, json=with_links("javascript:alert(1)", "ftp://example.com/a.png"), headers=auth
    )

    assert answer.status_code == 422, answer.text
    fields = [(f["field"], f["reason"]) for f in answer.json()["error"]["fields"]]
    assert fields == [
        ("steps.2.message.buttons.1.url", "url_scheme"),
        ("steps.2.message.image.url", "url_scheme"),
    ]
    assert (await client.get(SEQUENCES, headers=auth)).json()["items"] == []


async def test_a_send_step_with_web_links_is_saved(
    score: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = with_links("https://shop.example/sale", "https://cdn.example/a.png")

    answer = await client.post(SEQUENCES, json=body, headers=auth)

    assert answer.status_code == 201, answer.text
    assert answer.json()["steps"][2]["message"]["buttons"][1]["url"] == "https://shop.example/sale"
