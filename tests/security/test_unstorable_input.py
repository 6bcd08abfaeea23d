"""What the fuzzer found, kept as named regressions: input MongoDB cannot store, or that would
act as a query operator, is refused as a 422 naming the field, and nothing is written."""

from __future__ import annotations

import json

import httpx
import pytest

from kith.core.context import Core
from tests.api.conftest import ApiSetup, make_setup


@pytest.fixture
async def api(core: Core, client: httpx.AsyncClient, workspace_id: str) -> ApiSetup:
    return await make_setup(core, client, workspace_id)


async def test_null_for_a_list_is_refused_and_leaving_it_out_keeps_it(
    api: ApiSetup, core: Core
) -> None:
    customer_id = (await api.say("u-1", "hi")).json()["customer_id"]
    path = f"/api/v1/customers/{customer_id}"
    assert (await api.http.patch(path, json={"tags": ["vip"]}, headers=api.auth)).is_success
    refused = await api.http.patch(path, json={"tags": None}, headers=api.auth)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "tags"
    kept = await api.http.patch(path, json={"name": "Ada"}, headers=api.auth)
    assert kept.json()["tags"] == ["vip"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"attributes": {"a\x00b": "x"}}, "attributes.a\x00b.[key]"),
        ({"attributes": {"$gt": "x"}}, "attributes.$gt.[key]"),
    ],
)
async def test_unstorable_attributes_are_refused(
    api: ApiSetup, core: Core, body: dict, field: str
) -> None:
    customer_id = (await api.say("u-1", "hi")).json()["customer_id"]
    answer = await api.http.patch(f"/api/v1/customers/{customer_id}", json=body, headers=api.auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"].startswith(field.split(".")[0])
    assert (await core.store.customers.find_one({"_id": customer_id}))["attributes"] == {}


async def test_user_named_keys_in_knowledge_answers_are_refused(api: ApiSetup, core: Core) -> None:
    article = {"title": "Hours", "questions": ["When?"], "answer": {"$where": "1"}}
    answer = await api.http.post("/api/v1/knowledge", json=article, headers=api.auth)
    assert answer.status_code == 422 and answer.json()["error"]["field"].startswith("answer.")
    assert await core.store.collection("knowledge").count_documents({}) == 0


async def test_an_attachment_size_beyond_64_bits_is_refused(api: ApiSetup, core: Core) -> None:
    answer = await api.say("u-1", "hi", attachments=[{"kind": "file", "size": 2**64}])
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"].startswith("attachments.0.size")
    assert await core.store.messages.count_documents({}) == 0


async def test_a_nul_byte_in_a_search_is_only_data(api: ApiSetup) -> None:
    await api.say("u-1", "hi")
    answer = await api.http.get("/api/v1/customers", params={"q": "a\x00b"}, headers=api.auth)
    assert answer.status_code == 200 and answer.json()["items"] == []


def _raw(body: object) -> bytes:
    """`body` as JSON with every non-ASCII character escaped, a lone surrogate too."""
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/bots", {"name": "Hi", "fallback_text": "a\ud800b"}, "fallback_text"),
        ("PATCH", "/api/v1/customers/{customer}", {"tags": ["vip", "a\udfff"]}, "tags.1"),
        (
            "PATCH",
            "/api/v1/customers/{customer}",
            {"attributes": {"ok": "x", "b\ud83d": 1}},
            "attributes.b\ud83d.[key]",
        ),
    ],
)
async def test_a_lone_surrogate_is_refused_naming_its_field(
    api: ApiSetup, core: Core, method: str, path: str, body: dict, field: str
) -> None:
    """Python reads `"\\ud800"` in JSON as a string no database can encode: fields that are a
    plain `str` let it through, and the write failed with a 500."""
    customer_id = (await api.say("u-1", "hi")).json()["customer_id"]
    url = path.format(customer=customer_id)
    headers = api.auth | {"content-type": "application/json"}
    answer = await api.http.request(method, url, content=_raw(body), headers=headers)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == (field, "string_unicode")
    stored = await core.store.customers.find_one({"_id": customer_id})
    assert (stored["tags"], stored["attributes"]) == ([], {})
    assert await core.store.collection("bots").count_documents({}) == 0


async def test_an_escaped_pair_is_text_as_any_other(api: ApiSetup, core: Core) -> None:
    customer_id = (await api.say("u-1", "hi")).json()["customer_id"]
    headers = api.auth | {"content-type": "application/json"}
    body = _raw({"name": "Ada \U0001f600", "tags": ["a\\ud800"]})  # an emoji; a backslash
    answer = await api.http.patch(f"/api/v1/customers/{customer_id}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    stored = await core.store.customers.find_one({"_id": customer_id})
    assert (stored["name"], stored["tags"]) == ("Ada \U0001f600", ["a\\ud800"])
