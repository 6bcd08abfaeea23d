"""The broadcasts API: drafts checked on save, moves between states, preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from kith.core.context import Core

TEXT = {"en": "Hello {{ customer.name }}", "zh": "你好 {{ customer.name }}"}


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def draft(http: httpx.AsyncClient, token: str, **fields: Any) -> httpx.Response:
    body = {"name": "Spring sale", "message": {"text": TEXT}, "channels": ["api"], **fields}
    return await http.post("/api/v1/broadcasts", json=body, headers=auth(token))


async def test_a_draft_is_saved_and_read_back(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    ada, bo = await people(2)
    made = await draft(client, token, customer_ids=[ada.id, bo.id])
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "draft"
    assert body["stats"]["targeted"] == 0
    got = await client.get(f"/api/v1/broadcasts/{body['id']}", headers=auth(token))
    assert got.json()["message"]["text"] == TEXT
    listed = await client.get("/api/v1/broadcasts", headers=auth(token))
    assert [b["id"] for b in listed.json()["items"]] == [body["id"]]


async def test_a_bad_template_is_refused_with_its_field_line_and_column(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    text = {"en": "fine", "zh": "你好\n{{ customer.nmae }}"}
    answer = await draft(client, token, customer_ids=[ada.id], message={"text": text})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "message.text.zh"
    assert error["limits"] == {"line": 2, "column": 13}


async def test_input_errors_name_the_field(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    cases = [
        ({"customer_ids": ["nobody"]}, "customer_ids.0"),
        ({"customer_ids": [ada.id], "channels": ["pigeon"]}, "channels.0"),
        ({"segment_id": "missing"}, "segment_id"),
        ({}, "community_ids"),  # no audience at all
        ({"segment_id": "s1", "customer_ids": [ada.id]}, "customer_ids"),
        ({"customer_ids": [ada.id], "channels": []}, "channels"),
        ({"customer_ids": [ada.id], "channels": ["api", "api"]}, "channels"),
        (
            {
                "customer_ids": [ada.id],
                "send_at": "2027-01-02T09:00:00Z",
                "send_by": "2027-01-01T09:00:00Z",
            },
            "send_by",
        ),
    ]
    for fields, field in cases:
        answer = await draft(client, token, **fields)
        assert answer.status_code == 422, fields
        assert answer.json()["error"]["field"] == field, (fields, answer.text)


async def test_moves_follow_the_states_and_a_refused_one_lists_the_allowed(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    made = (
        await draft(client, token, customer_ids=[ada.id], send_at="2027-01-01T09:00:00Z")
    ).json()
    base = f"/api/v1/broadcasts/{made['id']}"
    refused = await client.post(f"{base}/resume", headers=auth(token))
    assert refused.status_code == 409
    assert refused.json()["error"]["limits"] == {
        "status": "draft",
        "allowed": ["cancelled", "scheduled"],
    }
    steps = [("schedule", "scheduled"), ("pause", "paused"), ("resume", "scheduled")]
    for action, status in steps:
        answer = await client.post(f"{base}/{action}", headers=auth(token))
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == status
    assert (await client.post(f"{base}/cancel", headers=auth(token))).json()[
        "status"
    ] == "cancelled"
    again = await client.post(f"{base}/schedule", headers=auth(token))
    assert again.status_code == 409
    assert again.json()["error"]["limits"]["allowed"] == []


async def test_preview_renders_for_the_customer_and_names_the_channel(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (li,) = await people(1, prefix="zh", locale="zh-CN")
    made = (await draft(client, token, customer_ids=[li.id])).json()
    answer = await client.post(
        f"/api/v1/broadcasts/{made['id']}/preview", json={"customer_id": li.id}, headers=auth(token)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["text"] == "你好 Person 0"
    assert (body["language"], body["decision"], body["channel_type"]) == ("zh", "go", "api")
