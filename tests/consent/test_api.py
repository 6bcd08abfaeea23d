"""`PUT /api/v1/customers/{id}/consent/{channel_type}`: the change, its event, idempotence
and bad input by field."""

from __future__ import annotations

from tests.consent.conftest import Shop


async def test_change_records_from_to_via(shop: Shop) -> None:
    received = await shop.says("hi")
    url = f"/api/v1/customers/{received.message.customer_id}/consent/email"
    answer = await shop.http.put(url, json={"state": "granted", "via": "import"}, headers=shop.auth)
    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "granted" and body["via"] == "import" and body["changed"] is True
    again = await shop.http.put(url, json={"state": "granted"}, headers=shop.auth)
    assert again.json()["changed"] is False and again.json()["via"] == "import"
    await shop.http.put(url, json={"state": "revoked", "via": "agent"}, headers=shop.auth)
    changes = [e.data for e in await shop.events("consent.changed")]
    assert changes == [
        {"channel_type": "email", "from": "unknown", "to": "granted", "via": "import"},
        {"channel_type": "email", "from": "granted", "to": "revoked", "via": "agent"},
    ]
    back = await shop.http.put(url, json={"state": "unknown"}, headers=shop.auth)
    assert back.json()["changed"] is True
    other = url.replace("/email", "/slack")
    assert (await shop.http.put(other, json={"state": "unknown"}, headers=shop.auth)).json()[
        "changed"
    ] is False
    assert len(await shop.events("consent.changed")) == 3
    customer = (
        await shop.http.get(f"/api/v1/customers/{received.message.customer_id}", headers=shop.auth)
    ).json()
    assert customer["consent"]["email"]["state"] == "unknown"


async def test_bad_input_is_named(shop: Shop) -> None:
    received = await shop.says("hi")
    base = f"/api/v1/customers/{received.message.customer_id}/consent"
    cases = (
        (f"{base}/fax", {"state": "revoked"}, 422, "channel_type"),
        (f"{base}/email", {"state": "maybe"}, 422, "state"),
        (f"{base}/email", {"state": "revoked", "via": "Bad Via!"}, 422, "via"),
        (f"{base}/email", {"state": "revoked", "extra": 1}, 422, "extra"),
        ("/api/v1/customers/nobody/consent/email", {"state": "revoked"}, 404, "customer_id"),
    )
    for url, body, code, field in cases:
        answer = await shop.http.put(url, json=body, headers=shop.auth)
        assert answer.status_code == code, (url, body)
        assert answer.json()["error"]["field"] == field, (url, body)
    assert (await shop.http.put(f"{base}/email", json={"state": "revoked"})).status_code == 401
