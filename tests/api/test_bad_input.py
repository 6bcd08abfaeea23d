"""Bad input gets a 4xx JSON error naming the field, and changes nothing."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from tests.api.conftest import ApiSetup


async def _counts(core: Core) -> tuple[int, int, int]:
    return (
        await core.store.messages.count_documents({}),
        await core.store.customers.count_documents({}),
        await core.store.conversations.count_documents({}),
    )


WEBHOOK_CASES = [
    ({"user": {"id": "u"}, "text": "hi"}, 422, "message_id"),
    ({"message_id": "1", "text": "hi"}, 422, "user"),
    ({"message_id": "1", "user": {"id": "u"}, "text": 5}, 422, "text"),
    ({"message_id": {"$gt": ""}, "user": {"id": "u"}, "text": "hi"}, 422, "message_id"),
    ({"message_id": "1", "user": {"id": {"$ne": None}}, "text": "hi"}, 422, "user.id"),
    ({"message_id": "1", "user": {"id": "u"}, "text": "hi", "admin": True}, 422, "admin"),
    ({"message_id": "1", "user": {"id": "u"}, "text": "   "}, 422, "text"),
    ({"message_id": "", "user": {"id": "u"}, "text": "hi"}, 422, "message_id"),
    (
        {"message_id": "1", "user": {"id": "u"}, "attachments": [{"kind": "x", "$where": 1}]},
        422,
        "attachments.0.$where",
    ),
    ([1, 2, 3], 422, None),
]


@pytest.mark.parametrize(("body", "status", "field"), WEBHOOK_CASES)
async def test_webhook_rejects_bad_bodies(
    api: ApiSetup, core: Core, body: object, status: int, field: str | None
) -> None:
    before = await _counts(core)
    answer = await api.http.post(
        f"/webhooks/api/{api.channel_id}", json=body, headers=api.channel_auth
    )
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] and error["message"]
    if field:
        assert error["field"] == field
    assert await _counts(core) == before


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b'{"message_id": "1", "user": ', 400, "malformed_json"),
        (b'{"message_id": "1", "user": {"id": "u"}, "text": "\xff\xfe"}', 400, "malformed_json"),
        (b"", 422, "invalid"),
    ],
)
async def test_webhook_rejects_malformed_json_and_invalid_utf8(
    api: ApiSetup, core: Core, raw: bytes, status: int, code: str
) -> None:
    before = await _counts(core)
    headers = {**api.channel_auth, "content-type": "application/json"}
    answer = await api.http.post(f"/webhooks/api/{api.channel_id}", content=raw, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert await _counts(core) == before


async def test_oversized_body_is_refused(api: ApiSetup, core: Core) -> None:
    before = await _counts(core)
    huge = {"message_id": "big", "user": {"id": "u"}, "text": "x" * 1_100_000}
    answer = await api.http.post(
        f"/webhooks/api/{api.channel_id}", json=huge, headers=api.channel_auth
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"

    async def chunks():
        for _ in range(30):
            yield b"x" * 50_000

    streamed = await api.http.post(
        f"/webhooks/api/{api.channel_id}",
        content=chunks(),
        headers={**api.channel_auth, "content-type": "application/json"},
    )
    assert streamed.status_code == 413
    assert await _counts(core) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/channels", {"type": "fax", "name": "x"}, "type"),
        ("post", "/api/v1/channels", {"type": "api", "name": ""}, "name"),
        (
            "post",
            "/api/v1/channels",
            {"type": "api", "name": "x", "config": {"callback_url": "nope"}},
            "config.callback_url",
        ),
        (
            "post",
            "/api/v1/channels",
            {"type": "api", "name": "x", "config": {"evil": 1}},
            "config.evil",
        ),
        ("post", "/api/v1/channels", {"type": {"$gt": ""}, "name": "x"}, "type"),
    ],
)
async def test_channel_api_rejects_bad_input(
    api: ApiSetup, method: str, path: str, body: dict, field: str
) -> None:
    answer = await getattr(api.http, method)(path, json=body, headers=api.auth)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["field"] == field


async def test_customer_patch_rejects_operator_keys_and_wrong_types(
    api: ApiSetup, core: Core
) -> None:
    await api.say("u-1", "hi")
    [customer] = (await api.http.get("/api/v1/customers", headers=api.auth)).json()["items"]
    path = f"/api/v1/customers/{customer['id']}"
    for body, field in [
        ({"attributes": {"$set": "x"}}, "attributes"),
        ({"attributes": {"a.b": "x"}}, "attributes"),
        ({"attributes": {"nested": {"$gt": 1}}}, "attributes.nested.str"),
        ({"name": {"$gt": ""}}, "name"),
        ({"tags": "vip"}, "tags"),
        ({"tags": [""]}, "tags"),
        ({"workspace_id": "other"}, "workspace_id"),
    ]:
        answer = await api.http.patch(path, json=body, headers=api.auth)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"].startswith(field.split(".")[0]), body
    stored = await core.store.customers.find_one({"_id": customer["id"]})
    assert stored["attributes"] == {} and stored["tags"] == []


async def test_unknown_ids_and_query_operators_in_filters(api: ApiSetup) -> None:
    for path in (
        "/api/v1/conversations/000000000000000000000000",
        "/api/v1/customers/nope",
        "/api/v1/channels/nope",
        "/api/v1/conversations/nope/messages",
    ):
        answer = await api.http.get(path, headers=api.auth)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
    await api.say("u-1", "hi")
    filtered = await api.http.get(
        "/api/v1/conversations", params={"assignee": '{"$ne": null}'}, headers=api.auth
    )
    assert filtered.status_code == 422 and filtered.json()["error"]["field"] == "assignee"
    bad_status = await api.http.get(
        "/api/v1/conversations", params={"status": "deleted"}, headers=api.auth
    )
    assert bad_status.status_code == 422 and bad_status.json()["error"]["field"] == "status"
    bad_cursor = await api.http.get(
        "/api/v1/conversations", params={"cursor": "!!!"}, headers=api.auth
    )
    assert bad_cursor.status_code == 422 and bad_cursor.json()["error"]["field"] == "cursor"


async def test_conversation_patch_rejects_bad_values(api: ApiSetup) -> None:
    conv_id = (await api.say("u-1", "hi")).json()["conversation_id"]
    path = f"/api/v1/conversations/{conv_id}"
    for body, field in [
        ({"status": "closed"}, "status"),
        ({"priority": 5}, "priority"),
        ({"assignee_id": "ghost"}, "assignee_id"),
        ({"status": "snoozed"}, "snoozed_until"),
        ({"status": "snoozed", "snoozed_until": "2020-01-01T00:00:00Z"}, "snoozed_until"),
        ({"status": "snoozed", "snoozed_until": "2020-01-01T00:00:00"}, "snoozed_until"),
        ({"labels": {"$push": "x"}}, "labels"),
        ({"labels": ["x" * 65]}, "labels"),
    ]:
        answer = await api.http.patch(path, json=body, headers=api.auth)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == field, body
    trimmed = await api.http.patch(path, json={"labels": [" vip ", " ", "vip"]}, headers=api.auth)
    assert trimmed.status_code == 200 and trimmed.json()["labels"] == ["vip"]
    empty = await api.http.post(f"{path}/messages", json={"text": ""}, headers=api.auth)
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "text"


async def test_validation_errors_say_why_for_clients_to_word_them(api: ApiSetup) -> None:
    short = await api.http.post(
        "/api/v1/channels",
        json={
            "type": "slack",
            "name": "S",
            "config": {"bot_token": "xoxb-1-2-3-456789", "signing_secret": "x"},
        },
        headers=api.auth,
    )
    error = short.json()["error"]
    assert short.status_code == 422 and error["field"] == "config.signing_secret"
    assert (error["reason"], error["limits"]) == ("string_too_short", {"min_length": 8})
    missing = await api.http.post("/api/v1/channels", json={"type": "api"}, headers=api.auth)
    assert missing.json()["error"]["reason"] == "missing"
    assert missing.json()["error"]["field"] == "name"


async def test_a_query_parameter_a_route_does_not_take_is_refused(api: ApiSetup) -> None:
    """`?priority=high` on a list without that filter was ignored: the whole list came back."""
    await api.say()
    listed = await api.http.get("/api/v1/conversations", params={"limit": 5}, headers=api.auth)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1
    refused = await api.http.get(
        "/api/v1/conversations",
        params={"priority": "high", "limit": 5, "foo": "bar"},
        headers=api.auth,
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert (error["field"], error["reason"]) == ("priority", "extra_forbidden")
    assert [f["field"] for f in error["fields"]] == ["priority", "foo"]
    one = await api.http.get("/api/v1/customers", params={"cursor": "", "x": "1"}, headers=api.auth)
    assert one.status_code == 422 and one.json()["error"]["field"] == "x"
    nameless = await api.http.get("/api/v1/customers?cursor=&=null", headers=api.auth)  # fuzzed
    assert nameless.status_code == 422 and nameless.json()["error"]["field"] == "query"
