"""`PATCH /app/api/contacts/{id}/profile`: whoever reads a customer edits their name, emails,
phones, locale, time zone and attributes, checked as a new customer is (every bad field at
once, an address another customer has a 409 naming them), recorded in the timeline as the
person who did it; an agent of another team is refused. An import is recorded as whoever
started it (the signed-in marketer, or the API token by name), not as "Kith (automatic)"."""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.jobs import JobWorker
from tests.web.conftest import Cast


async def _customer_of(core: Core, conversation_id: str) -> str:
    conversation = await core.store.conversations.find_one({"_id": conversation_id})
    return str(conversation["customer_id"])


async def _updates(core: Core, customer_id: str) -> list[dict[str, Any]]:
    query = {"type": "customer.updated", "customer_id": customer_id}
    return await core.store.events.find(query).sort("created_at", 1).to_list(None)


async def test_an_agent_edits_a_customer_of_their_team_and_the_timeline_names_them(
    cast: Cast, browser, core: Core
) -> None:
    ada = await _customer_of(core, cast.conversations["shop"])
    await core.store.customers.update_one({"_id": ada}, {"$set": {"attributes": {"plan": "pro"}}})
    alice = await browser("alice")
    answer = await alice.api(
        "PATCH",
        f"/contacts/{ada}/profile",
        json={
            "name": "  Ada King ",
            "emails": ["Ada@Example.COM", "ada@example.com", "ada.l@example.org"],
            "phones": ["138 0013 8000"],  # national, read in KITH_PHONE_REGION (CN)
            "locale": "zh_cn",
            "timezone": "Asia/Shanghai",
            "attributes": {"plan": None, "city": "上海", "orders": 3},
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["name"] == "Ada King" and body["shown_name"] == "Ada King"
    assert body["emails"] == ["ada@example.com", "ada.l@example.org"]
    assert body["phones"] == ["+8613800138000"]
    assert (body["locale"], body["timezone"]) == ("zh-CN", "Asia/Shanghai")
    assert body["attributes"] == {"city": "上海", "orders": 3}

    [event] = await _updates(core, ada)
    assert event["actor"]["name"] == "Alice" and event["actor"]["id"] == cast.users["alice"].id
    assert event["data"]["fields"] == ["emails", "locale", "name", "phones", "timezone"]
    assert event["data"]["attributes"] == ["city", "orders", "plan"]
    timeline = await alice.api("GET", f"/contacts/{ada}/timeline")
    assert timeline.json()["items"][0]["actor"]["name"] == "Alice"

    blank = await alice.api("PATCH", f"/contacts/{ada}/profile", json={"locale": " "})
    assert blank.status_code == 200 and blank.json()["locale"] is None
    same = await alice.api("PATCH", f"/contacts/{ada}/profile", json={"name": "Ada King"})
    assert same.status_code == 200
    assert len(await _updates(core, ada)) == 2  # an edit that changes nothing records nothing


async def test_every_bad_field_is_refused_at_once_and_nothing_is_written(
    cast: Cast, browser, core: Core
) -> None:
    ada = await _customer_of(core, cast.conversations["shop"])
    before = await core.store.customers.find_one({"_id": ada})
    answer = await (await browser("alice")).api(
        "PATCH",
        f"/contacts/{ada}/profile",
        json={
            "name": "x" * 257,
            "emails": ["ok@example.com", "not an email"],
            "phones": ["12"],
            "locale": "english please",
            "timezone": "Mars/Olympus",
            "attributes": {"bad key!": "v"},
            "tags": ["nope"],
        },
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    reasons = {f["field"]: f["reason"] for f in error["fields"]}
    assert reasons.pop("tags") == "extra_forbidden"
    assert reasons.pop("name") == "string_too_long"
    assert reasons.pop("emails.1") == "not_an_email"
    assert reasons.pop("phones.0") == "not_a_phone"
    assert reasons.pop("locale") == "not_a_locale"
    assert reasons.pop("timezone") == "unknown_timezone"
    assert [f for f in reasons if f.startswith("attributes.")], reasons
    bad_email = next(f for f in error["fields"] if f["field"] == "emails.1")
    assert bad_email["limits"]["value"] == "not an email"
    assert await core.store.customers.find_one({"_id": ada}) == before
    assert await _updates(core, ada) == []


async def test_an_address_another_customer_has_is_a_409_naming_them(
    cast: Cast, browser, core: Core
) -> None:
    ada = await _customer_of(core, cast.conversations["shop"])
    grace = await _customer_of(core, cast.conversations["help"])
    mary = await browser("mary")  # a marketer reads every customer
    given = {
        "name": "Grace <b>Hopper</b>",
        "emails": ["grace@example.com"],
        "phones": ["+442079460958"],
    }
    assert (await mary.api("PATCH", f"/contacts/{grace}/profile", json=given)).status_code == 200

    before = await core.store.customers.find_one({"_id": ada})
    answer = await (await browser("alice")).api(
        "PATCH",
        f"/contacts/{ada}/profile",
        json={"emails": ["ada@example.com", "GRACE@example.com"], "phones": ["+44 20 7946 0958"]},
    )
    assert answer.status_code == 409, answer.text
    fields = {f["field"]: f for f in answer.json()["error"]["fields"]}
    assert set(fields) == {"emails.1", "phones.0"}
    assert fields["emails.1"]["reason"] == "customer_has_email"
    assert fields["emails.1"]["limits"] == {
        "value": "grace@example.com",
        "customer_id": grace,
        "customer": "Grace <b>Hopper</b>",
    }
    assert fields["phones.0"]["limits"]["customer_id"] == grace
    assert await core.store.customers.find_one({"_id": ada}) == before

    own = await mary.api(
        "PATCH", f"/contacts/{grace}/profile", json={"emails": ["grace@example.com"]}
    )
    assert own.status_code == 200  # the customer's own address is no conflict


async def test_an_agent_of_another_team_cannot_edit(cast: Cast, browser, core: Core) -> None:
    ada = await _customer_of(core, cast.conversations["shop"])
    bob = await browser("bob")  # Support: ada talks to Sales
    answer = await bob.api("PATCH", f"/contacts/{ada}/profile", json={"name": "Someone else"})
    assert answer.status_code == 403, answer.text
    assert (await core.store.customers.find_one({"_id": ada}))["name"] != "Someone else"
    assert await _updates(core, ada) == []
    missing = await bob.api("PATCH", "/contacts/nobody/profile", json={"name": "x"})
    assert missing.status_code == 404


async def test_an_import_is_recorded_as_whoever_started_it(
    cast: Cast, browser, core: Core, app
) -> None:
    """The Contacts page's upload as the marketer; a token's as "API token <name>"."""
    from kith.core.auth import create_api_token

    mary = await browser("mary")
    answer = await mary.http.post(
        "/api/v1/customers/import",
        content=b"name,email\nMina,mina@example.com\n",
        headers={"Content-Type": "text/csv", "X-CSRF-Token": mary.csrf},
    )
    assert answer.status_code == 202, answer.text
    token = await create_api_token(core, cast.workspace_id, "shop sync")
    answer = await mary.http.post(
        "/api/v1/customers/import",
        content=b"name,email\nMina Park,mina@example.com\n",
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 202, answer.text
    await JobWorker(core).run_once()
    await JobWorker(core).run_once()
    mina = await core.store.customers.find_one({"emails": "mina@example.com"})
    [created] = await core.store.events.find(
        {"type": "customer.created", "customer_id": mina["_id"]}
    ).to_list(None)
    assert created["actor"]["name"] == "Mary" and created["actor"]["id"] == cast.users["mary"].id
    [updated] = await _updates(core, mina["_id"])
    assert updated["actor"]["name"] == "API token shop sync"
