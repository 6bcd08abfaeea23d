"""The broadcasts API: drafts checked on save, moves between states, preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from kith.core.context import Core
from kith.segments.records import do_create_segment
from kith.web.inbox.i18n import messages

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
    assert error["limits"] == {"line": 2, "column": 13, "variable": "customer.nmae"}


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


async def test_preview_says_why_the_text_fails_for_this_customer(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    """A missing attribute fails for some customers only: saved, then the preview names it
    with a reason the page words in its language (Jinja's message is English)."""
    (li,) = await people(1, prefix="zh", locale="zh-CN")
    text = {"en": "Hi", "zh": "你好 {{ customer.attributes.plan }}"}
    made = (await draft(client, token, customer_ids=[li.id], message={"text": text})).json()
    answer = await client.post(
        f"/api/v1/broadcasts/{made['id']}/preview", json={"customer_id": li.id}, headers=auth(token)
    )
    body = answer.json()
    assert (body["text"], body["error_reason"]) == (None, "template_missing_value")
    assert body["error_limits"]["name"] == "plan"
    assert "plan" in body["error"]
    assert "{name}" in messages("zh")["reason_template_missing_value"]


async def test_a_template_that_would_freeze_the_server_is_refused_on_save(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    """Regression (QA marketer #2): nested `range(10000)` loops were saved, and each preview
    or send then blocked every request for seconds."""
    (ada,) = await people(1)
    loops = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}hi"
    text = {"en": "fine", "zh": loops}
    answer = await draft(client, token, customer_ids=[ada.id], message={"text": text})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "message.text.zh"
    assert error["code"] == "template_too_costly"
    assert error["reason"] == "template_too_costly"  # worded by the page in its language
    assert "模板" in messages("zh")["reason_template_too_costly"]


async def test_a_template_that_fails_for_every_customer_is_refused_on_save(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    """It was saved, and then every recipient was skipped `template_error` when sending."""
    (ada,) = await people(1)
    text = {"en": "Hi {{ customer.name | truncate(-5) }}", "zh": "你好"}
    answer = await draft(client, token, customer_ids=[ada.id], message={"text": text})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("message.text.en", "template_fails_always")
    assert error["limits"]["detail"] == "expected length >= 3, got -5"
    assert await bcore.store.collection("broadcasts").count_documents({}) == 0


async def test_a_segment_a_broadcast_uses_cannot_be_deleted(
    bcore: Core, client: httpx.AsyncClient, token: str, workspace_id: str
) -> None:
    """Regression (QA marketer #3): the delete was allowed, and the broadcast then "sent" to
    nobody. A broadcast that has ended no longer holds the segment."""
    segment = await do_create_segment(
        bcore, workspace_id, "temp", {"field": "tags", "op": "contains", "value": "vip"}
    )
    made = await draft(client, token, segment_id=segment.id)
    assert made.status_code == 201, made.text
    url = f"/api/v1/segments/{segment.id}"
    refused = await client.delete(url, headers=auth(token))
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "segment_in_use" and error["field"] == "segment_id"
    assert made.json()["id"] in error["message"] and "Spring sale" in error["message"]
    assert (await client.get(url, headers=auth(token))).status_code == 200

    bid = made.json()["id"]
    cancelled = await client.post(f"/api/v1/broadcasts/{bid}/cancel", headers=auth(token))
    assert cancelled.status_code == 200, cancelled.text
    assert (await client.delete(url, headers=auth(token))).status_code == 204


async def test_a_draft_whose_segment_is_gone_is_not_scheduled(
    bcore: Core, client: httpx.AsyncClient, token: str, workspace_id: str
) -> None:
    segment = await do_create_segment(
        bcore, workspace_id, "temp", {"field": "tags", "op": "contains", "value": "vip"}
    )
    made = await draft(client, token, segment_id=segment.id)
    await bcore.store.collection("segments").delete_one({"_id": segment.id})  # a race's end
    answer = await client.post(
        f"/api/v1/broadcasts/{made.json()['id']}/schedule", headers=auth(token)
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "segment_id"
