"""Regressions from the QA pass on the public API: a body that is not JSON is blamed on
`body`, an unknown key is named before the errors it causes, a customer's locale is a
language tag, a new customer is somebody, and a conversation can be handed to a team."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.core.settings import Settings
from kith.core.teams import create_team
from kith.web.app import BASE_FEATURES, features
from tests.api.conftest import ApiSetup

UNKNOWN = "surely_not_a_field"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"nlp_enabled": False})  # no sentiment model to load


@pytest.fixture
async def core(core: Core) -> Core:
    """The suite's Core with every feature, as `kith serve` runs: broadcasts, sequences,
    tickets, orders, webhooks … add their routes to the app the `api` fixture builds."""
    install(core, [f for f in features(core) if f not in BASE_FEATURES])
    await core.start()
    return core


async def _body_routes(http: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body schema) of every documented route that takes a JSON body."""
    schema = (await http.get("/openapi.json")).json()
    routes = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                routes.append((method, path, content["application/json"]["schema"]))
    return routes


def _concrete(path: str) -> str:
    return path.replace("{", "x-").replace("}", "")  # ids that exist nowhere


async def test_a_body_that_is_not_json_is_blamed_on_the_body_on_every_route(
    api: ApiSetup,
) -> None:
    """Regression (QA API #1): malformed JSON answered `"field": "0"` (the character offset
    FastAPI puts in the error's location)."""
    routes = await _body_routes(api.http)
    assert len(routes) > 30  # the public API, the inbox's and the features'
    headers = {**api.auth, "content-type": "application/json"}
    for method, path, _ in routes:
        answer = await api.http.request(
            method.upper(), _concrete(path), content=b'{"name": ', headers=headers
        )
        assert answer.status_code == 400, (method, path, answer.text)
        error = answer.json()["error"]
        assert (error["code"], error["field"], error["reason"]) == (
            "malformed_json",
            "body",
            "json_invalid",
        ), (method, path)
        assert error["message"].startswith("the body is not valid JSON"), error
        assert error["limits"]["position"] == 9


async def test_a_body_that_is_not_utf8_is_blamed_on_the_body(api: ApiSetup) -> None:
    headers = {**api.auth, "content-type": "application/json"}
    answer = await api.http.post(
        "/api/v1/customers", content=b'{"name": "\xff\xfe"}', headers=headers
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("malformed_json", "body")
    assert "UTF-8" in error["message"]


async def test_an_unknown_key_is_named_before_the_errors_it_causes(
    api: ApiSetup, core: Core
) -> None:
    """Regression (QA API #2): `audience` for `segment_id` was blamed on `community_ids`
    ("give one of …"), pydantic listing the extra key's error last."""
    body = {"name": "Sale", "audience": "everyone", "message": {"text": {"en": "Hi"}}}
    answer = await api.http.post("/api/v1/broadcasts", json=body, headers=api.auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("audience", "extra_forbidden")
    assert error["message"].startswith("unknown field")
    assert await core.store.collection("broadcasts").count_documents({}) == 0


async def test_every_public_request_body_refuses_an_unknown_key(api: ApiSetup) -> None:
    """Each create and patch of the public API (broadcasts, sequences, segments, tickets,
    orders, webhooks, customers, conversations …) names a key it does not take, whatever
    else the body lacks."""
    tried = set()
    for method, path, schema in await _body_routes(api.http):
        if not path.startswith("/api/v1/") or schema.get("type") == "array":
            continue
        answer = await api.http.request(
            method.upper(), _concrete(path), json={UNKNOWN: 1}, headers=api.auth
        )
        assert answer.status_code == 422, (method, path, answer.text)
        assert answer.json()["error"]["field"] == UNKNOWN, (method, path, answer.text)
        tried.add(path.split("/")[3])
    wanted = {"broadcasts", "sequences", "segments", "tickets", "orders", "webhooks"}
    assert wanted | {"customers", "conversations", "channels"} <= tried


async def _customer(api: ApiSetup) -> str:
    made = await api.http.post("/api/v1/customers", json={"name": "Lilei"}, headers=api.auth)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@pytest.mark.parametrize(
    "locale",
    ["xx-INVALID-9999", "en-", "english", "zh-CN-x", "en-US ", "en\n", "zh-Hans-CN-1996", "e"],
)
async def test_a_locale_that_is_not_a_language_tag_is_refused(
    api: ApiSetup, core: Core, locale: str
) -> None:
    """Regression (QA API #3): `PATCH` stored `xx-INVALID-9999` while it checked `timezone`."""
    customer_id = await _customer(api)
    patched = await api.http.patch(
        f"/api/v1/customers/{customer_id}", json={"locale": locale}, headers=api.auth
    )
    assert patched.status_code == 422, patched.text
    assert patched.json()["error"]["field"] == "locale"
    created = await api.http.post(
        "/api/v1/customers", json={"name": "Han", "locale": locale}, headers=api.auth
    )
    assert created.status_code == 422, created.text
    assert created.json()["error"]["field"] == "locale"
    stored = await core.store.customers.find({}, {"locale": 1}).to_list(None)
    assert [c.get("locale") for c in stored] == [None]


async def test_a_language_tag_is_kept_in_its_conventional_case(api: ApiSetup) -> None:
    customer_id = await _customer(api)
    url = f"/api/v1/customers/{customer_id}"
    for given, kept in (
        ("en", "en"),
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("ZH-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
    ):
        answer = await api.http.patch(url, json={"locale": given}, headers=api.auth)
        assert answer.status_code == 200, answer.text
        assert answer.json()["locale"] == kept
    created = await api.http.post(
        "/api/v1/customers", json={"name": "Han", "locale": "pt_br"}, headers=api.auth
    )
    assert created.json()["locale"] == "pt-BR"


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "   "}, {"tags": ["vip"], "attributes": {"city": "上海"}}, {"locale": "en"}],
)
async def test_a_customer_without_name_email_phone_or_identity_is_refused(
    api: ApiSetup, core: Core, body: dict[str, Any]
) -> None:
    """Regression (QA API #4): `POST /api/v1/customers {}` made an empty customer (201)."""
    answer = await api.http.post("/api/v1/customers", json=body, headers=api.auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "body"
    assert error["message"] == "give at least one of name, emails, phones or identities"
    assert await core.store.customers.count_documents({}) == 0


async def test_any_one_of_name_email_phone_or_identity_makes_a_customer(api: ApiSetup) -> None:
    for body in (
        {"name": "Ada"},
        {"emails": ["ada@example.com"]},
        {"phones": ["+14155552671"]},
        {"identities": [{"channel_id": api.channel_id, "external_id": "ada-1"}]},
    ):
        answer = await api.http.post("/api/v1/customers", json=body, headers=api.auth)
        assert answer.status_code == 201, (body, answer.text)


async def test_a_conversation_is_handed_to_a_team_and_taken_back(
    api: ApiSetup, core: Core, workspace_id: str
) -> None:
    """Regression (QA API #5): the public `PATCH` had no `team_id` (the inbox's had)."""
    await api.say("u-1", "hi")
    [conversation] = (await api.http.get("/api/v1/conversations", headers=api.auth)).json()["items"]
    team = await create_team(core, workspace_id, "Billing")
    url = f"/api/v1/conversations/{conversation['id']}"
    handed = await api.http.patch(
        url, json={"team_id": team.id, "priority": "high"}, headers=api.auth
    )
    assert handed.status_code == 200, handed.text
    assert (handed.json()["team_id"], handed.json()["priority"]) == (team.id, "high")
    stored = await core.store.conversations.find_one({"_id": conversation["id"]})
    assert stored["team_id"] == team.id
    events = await core.store.events.find({"type": "conversation.team_changed"}).to_list(None)
    assert [e["data"]["team_id"] for e in events] == [team.id]

    unknown = await api.http.patch(url, json={"team_id": "no-such-team"}, headers=api.auth)
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["field"] == "team_id"
    assert (await api.http.get(url, headers=api.auth)).json()["team_id"] == team.id

    back = await api.http.patch(url, json={"team_id": None}, headers=api.auth)
    assert back.status_code == 200 and back.json()["team_id"] is None
    untouched = await api.http.patch(url, json={"status": "resolved"}, headers=api.auth)
    assert untouched.json()["team_id"] is None
    events = await core.store.events.find({"type": "conversation.team_changed"}).to_list(None)
    assert [e["data"]["team_id"] for e in events] == [team.id, None]


async def test_the_openapi_schema_documents_team_id_on_the_conversation_patch(
    api: ApiSetup,
) -> None:
    schema = (await api.http.get("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/conversations/{conversation_id}"]["patch"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    patch = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "team_id" in patch["properties"]
    assert "team" in patch["properties"]["team_id"]["description"]
