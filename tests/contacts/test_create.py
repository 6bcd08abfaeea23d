"""`POST /api/v1/customers`: identities normalised, the event recorded, owned addresses refused."""

from __future__ import annotations

from kith.core.context import Core
from tests.api.conftest import ApiSetup


async def test_create_normalises_and_records_the_event(api: ApiSetup, core: Core) -> None:
    body = {
        "name": "李雷",
        "emails": [" LiLei@Example.COM "],
        "phones": ["138 0013 8000", "+1 (415) 555-2671"],
        "identities": [{"channel_id": api.channel_id, "external_id": "lilei-1"}],
        "tags": ["vip", "vip"],
        "attributes": {"city": "上海"},
        "consent": {"email": "granted"},
        "timezone": "Asia/Shanghai",
    }
    response = await api.http.post("/api/v1/customers", json=body, headers=api.auth)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["emails"] == ["lilei@example.com"]
    assert created["phones"] == ["+8613800138000", "+14155552671"]  # CN is the default region
    assert created["identities"] == [{"channel_id": api.channel_id, "external_id": "lilei-1"}]
    assert created["channels"] == ["api"]
    assert created["tags"] == ["vip"]
    assert created["consent"]["email"]["state"] == "granted"
    events = await core.store.events.find({"type": "customer.created"}).to_list(None)
    assert [e["customer_id"] for e in events] == [created["id"]]
    # The identity is real: the customer's next message on that channel is theirs.
    await api.say("lilei-1", "你好")
    message = await core.store.messages.find_one({"text": "你好"})
    assert message is not None and message["customer_id"] == created["id"]
    found = await api.http.get(
        "/api/v1/customers", params={"q": "+8613800138000"}, headers=api.auth
    )
    assert [c["id"] for c in found.json()["items"]] == [created["id"]]


async def test_an_email_someone_has_is_a_conflict_naming_the_field(api: ApiSetup) -> None:
    first = await api.http.post(
        "/api/v1/customers", json={"emails": ["ada@example.com"]}, headers=api.auth
    )
    assert first.status_code == 201
    again = await api.http.post(
        "/api/v1/customers",
        json={"emails": ["grace@example.com", "ADA@example.com"]},
        headers=api.auth,
    )
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "emails.1"
    assert first.json()["id"] in again.json()["error"]["message"]
    phone = await api.http.post(
        "/api/v1/customers", json={"phones": ["13800138000"]}, headers=api.auth
    )
    assert phone.status_code == 201
    clash = await api.http.post(
        "/api/v1/customers", json={"phones": ["+86 138-0013-8000"]}, headers=api.auth
    )
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "phones.0"


async def test_an_identity_someone_has_is_a_conflict(api: ApiSetup, core: Core) -> None:
    await api.say("u-taken", "hello")
    response = await api.http.post(
        "/api/v1/customers",
        json={
            "name": "x",
            "identities": [{"channel_id": api.channel_id, "external_id": "u-taken"}],
        },
        headers=api.auth,
    )
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "identities.0"
    assert await core.store.customers.count_documents({"name": "x"}) == 0


async def test_bad_input_is_refused_naming_the_field(
    api: ApiSetup, other_api: ApiSetup, core: Core
) -> None:
    cases = [
        ({"emails": ["not-an-email"]}, "emails.0"),
        ({"phones": ["12"]}, "phones.0"),
        ({"phones": ["138"]}, "phones.0"),
        ({"identities": [{"channel_id": other_api.channel_id, "external_id": "a"}]}, None),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"attributes": {"$where": "1"}}, "attributes.$where.[key]"),
        ({"nickname": "x"}, "nickname"),
    ]
    for body, field in cases:
        response = await api.http.post("/api/v1/customers", json=body, headers=api.auth)
        assert response.status_code == 422, (body, response.text)
        expected = field or "identities.0.channel_id"  # another workspace's channel
        assert response.json()["error"]["field"] == expected, body
    assert await core.store.customers.count_documents({}) == 0
