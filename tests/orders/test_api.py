"""`/api/v1/orders` for a shop (API token) and `/app/api/orders` for the inbox (agents and
admins write, marketers read, an agent only for their teams' customers)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.orders.feature import feature
from tests.orders.conftest import ITEMS
from tests.support.cast import api_token
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


@pytest.fixture(autouse=True)
def with_orders(core: Core) -> None:
    """Installed before the app is built (autouse fixtures come first)."""
    install(core, [feature(core)])


@pytest.fixture
async def shop_api(
    app: Any,  # noqa: F811
    core: Core,
    workspace_id: str,
) -> Any:
    token = await api_token(core, workspace_id)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://kith.test", headers=headers
    ) as http:
        yield http


def ada_of(core: Core, cast: Cast) -> Any:  # noqa: F811
    return core.store.conversations.find_one({"_id": cast.conversations["shop"]})


async def test_a_shop_pushes_an_order_once_and_moves_it(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,
) -> None:
    conversation = await ada_of(core, cast)
    body = {
        "customer_id": conversation["customer_id"],
        "external_id": "shopify-1001",
        "currency": "JPY",
        "items": [{"sku": "M-1", "name": "Matcha", "quantity": 3, "unit_price": 1200}],
        "total": 3600,
    }
    first, again = await asyncio.gather(
        shop_api.post("/api/v1/orders", json=body), shop_api.post("/api/v1/orders", json=body)
    )
    assert sorted([first.status_code, again.status_code]) == [200, 201], first.text
    assert first.json()["id"] == again.json()["id"]
    made = first.json()
    assert (made["total"], made["total_shown"], made["source"]) == (3600, "3,600 JPY", "api")
    url = f"/api/v1/orders/{made['id']}"
    paid = await shop_api.patch(url, json={"status": "paid"})
    assert paid.json()["status"] == "paid"
    refused = await shop_api.patch(url, json={"status": "pending"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["field"] == "status"
    assert error["limits"] == {"status": "paid", "allowed": ["refunded", "shipped"]}
    shipped = await shop_api.patch(
        url, json={"status": "shipped", "shipping": {"carrier": "Yamato", "tracking_number": "Y1"}}
    )
    assert shipped.json()["shipping"]["tracking_number"] == "Y1"
    assert [m["status"] for m in shipped.json()["history"]] == ["pending", "paid", "shipped"]
    read = await shop_api.get(url)
    assert read.json()["status"] == "shipped"


async def test_a_used_external_id_with_other_items_is_a_409_naming_it(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,
) -> None:
    conversation = await ada_of(core, cast)
    body = {
        "customer_id": conversation["customer_id"],
        "external_id": "shopify-2002",
        "currency": "JPY",
        "items": [{"sku": "M-1", "name": "Matcha", "quantity": 3, "unit_price": 1200}],
    }
    made = await shop_api.post("/api/v1/orders", json=body)
    assert made.status_code == 201, made.text
    body["items"][0]["quantity"] = 4
    refused = await shop_api.post("/api/v1/orders", json=body)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert (error["field"], error["reason"]) == ("external_id", "external_id_reused")
    assert error["limits"] == {"order_id": made.json()["id"], "number": 1, "differs": ["items"]}


async def test_totals_that_disagree_are_refused_naming_the_field(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,
) -> None:
    conversation = await ada_of(core, cast)
    body = {"customer_id": conversation["customer_id"], "currency": "CNY", "items": ITEMS}
    wrong = await shop_api.post("/api/v1/orders", json={**body, "total": 2499})
    assert wrong.status_code == 422
    assert (wrong.json()["error"]["field"], wrong.json()["error"]["reason"]) == (
        "total",
        "total_mismatch",
    )
    floaty = {**ITEMS[0], "unit_price": 12.5}
    refused = await shop_api.post("/api/v1/orders", json={**body, "items": [floaty]})
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "items.0.unit_price"
    unknown = await shop_api.post("/api/v1/orders", json={**body, "currency": "XXY"})
    assert unknown.json()["error"]["field"] == "currency"


async def test_listing_by_customer_and_status_in_pages(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,
) -> None:
    conversation = await ada_of(core, cast)
    body = {"conversation_id": conversation["_id"], "currency": "CNY", "items": ITEMS}
    ids = [(await shop_api.post("/api/v1/orders", json=body)).json()["id"] for _ in range(3)]
    await shop_api.patch(f"/api/v1/orders/{ids[0]}", json={"status": "paid"})
    query = {"customer_id": conversation["customer_id"], "limit": 2}
    page1 = (await shop_api.get("/api/v1/orders", params=query)).json()
    cursor = page1["next_cursor"]
    page2 = (await shop_api.get("/api/v1/orders", params={**query, "cursor": cursor})).json()
    assert [o["id"] for o in page1["items"] + page2["items"]] == ids[::-1]
    assert page2["next_cursor"] is None
    paid = (await shop_api.get("/api/v1/orders", params={"status": "paid"})).json()
    assert [o["id"] for o in paid["items"]] == [ids[0]]
    for bad in ('{"$gt": ""}', "ada", conversation["customer_id"].upper()):  # not an id: said
        refused = await shop_api.get("/api/v1/orders", params={"customer_id": bad})
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["field"] == "customer_id"


async def test_agents_write_marketers_read_and_teams_keep_to_their_customers(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    conversation = await ada_of(core, cast)
    alice, bob, mary = await browser("alice"), await browser("bob"), await browser("mary")
    body = {"conversation_id": conversation["_id"], "currency": "CNY", "items": ITEMS}
    made = await alice.api("POST", "/orders", json=body)
    assert made.status_code == 201, made.text
    order = made.json()
    assert (order["source"], order["customer_id"]) == ("chat", conversation["customer_id"])
    assert order["history"][0]["by"]["name"] == "Alice"
    assert (await mary.api("POST", "/orders", json=body)).status_code == 403
    assert (
        await mary.api("PATCH", f"/orders/{order['id']}", json={"status": "paid"})
    ).status_code == 403
    listed = await mary.api("GET", "/orders", params={"customer_id": order["customer_id"]})
    assert [o["id"] for o in listed.json()["items"]] == [order["id"]]
    assert (await bob.api("GET", f"/orders/{order['id']}")).status_code == 403  # Support team
    assert (await bob.api("POST", "/orders", json=body)).status_code == 403
    moved = await alice.api("PATCH", f"/orders/{order['id']}", json={"status": "paid"})
    assert moved.json()["status"] == "paid"
