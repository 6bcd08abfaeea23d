"""`/api/v1/orders` for a shop (API token) and `/app/api/orders` for the inbox (agents and
admins write, marketers read, an agent only for their teams' customers)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from kith.core.clock import ManualClock
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


async def all_pages(http: httpx.AsyncClient, params: dict[str, Any]) -> list[str]:
    """The ids of every page of `GET /api/v1/orders`, in order, following the cursors."""
    ids: list[str] = []
    cursor = None
    while True:
        got = await http.get(
            "/api/v1/orders", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert got.status_code == 200, got.text
        ids += [o["id"] for o in got.json()["items"]]
        cursor = got.json()["next_cursor"]
        if cursor is None:
            return ids


async def test_latest_first_is_by_date_even_for_orders_pushed_with_an_external_id(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,
    browser: Callable[..., Any],  # noqa: F811
    clock: ManualClock,
) -> None:
    """Regression (QA 9, M3): an order's id derived from a shop's `external_id` is a hash,
    so sorting by id put pushed orders anywhere, and the panel's latest 20 could miss the
    newest. Listings sort by `placed_at`, the id breaking ties, and their cursors follow."""
    conversation = await ada_of(core, cast)
    body = {"customer_id": conversation["customer_id"], "currency": "CNY", "items": ITEMS}

    async def push(**fields: Any) -> str:
        made = await shop_api.post("/api/v1/orders", json={**body, **fields})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    made = []
    for n in range(5):
        clock.advance(60)
        made.append(await push(**({"external_id": f"shop-{n}"} if n % 2 == 0 else {})))
    clock.advance(60)
    tied = [await push(external_id="shop-a"), await push(external_id="shop-b"), await push()]
    last_year = (clock.now() - timedelta(days=365)).isoformat()
    imported = await push(external_id="shop-old", placed_at=last_year)
    newest_first = sorted(tied, reverse=True) + made[::-1] + [imported]

    for limit in (1, 2, 25):  # the cursor continues within a tie and across dates
        query = {"customer_id": conversation["customer_id"], "limit": limit}
        assert await all_pages(shop_api, query) == newest_first, limit
    assert await all_pages(shop_api, {"status": "pending", "limit": 3}) == newest_first
    alice = await browser("alice")  # the inbox's customer panel
    panel = await alice.api("GET", f"/customers/{conversation['customer_id']}")
    assert [o["id"] for o in panel.json()["orders"]] == newest_first


async def test_a_date_ahead_of_now_or_another_customers_conversation_is_refused(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,
    clock: ManualClock,
) -> None:
    """Regression (QA 9, minor 3): `placed_at` in 2099 was kept (it sorted first for years
    and skewed `orders.last_at`); a conversation of another customer was refused with no
    `reason` for a client to word."""
    conversation = await ada_of(core, cast)
    body = {"customer_id": conversation["customer_id"], "currency": "CNY", "items": ITEMS}
    shanghai = (clock.now() + timedelta(hours=23)).astimezone(timezone(timedelta(hours=8)))
    skewed = await shop_api.post(
        "/api/v1/orders", json={**body, "placed_at": shanghai.isoformat()}
    )  # a shop's clock a little ahead: kept, in UTC
    assert skewed.status_code == 201, skewed.text
    placed = datetime.fromisoformat(skewed.json()["placed_at"])
    assert (placed, placed.utcoffset()) == (shanghai, timedelta(0))
    for ahead in ("2099-01-01T00:00:00Z", (clock.now() + timedelta(days=1, seconds=1)).isoformat()):
        refused = await shop_api.post("/api/v1/orders", json={**body, "placed_at": ahead})
        assert refused.status_code == 422, ahead
        error = refused.json()["error"]
        assert (error["field"], error["reason"]) == ("placed_at", "placed_in_future")
        assert error["limits"] == {"latest": (clock.now() + timedelta(days=1)).isoformat()}
    graces = cast.conversations["help"]
    refused = await shop_api.post("/api/v1/orders", json={**body, "conversation_id": graces})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert (error["field"], error["reason"]) == (
        "conversation_id",
        "another_customers_conversation",
    )
    listed = await shop_api.get("/api/v1/orders", params={"customer_id": body["customer_id"]})
    assert [o["id"] for o in listed.json()["items"]] == [skewed.json()["id"]]


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
