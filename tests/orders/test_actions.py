"""Creating and moving orders: numbers, idempotent creates (racing ones too), transitions
with their history and events, and the customer's figures segments filter on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from kith.core.context import Core
from kith.core.customers import do_erase_customer, do_merge_customers
from kith.core.errors import Conflict
from kith.core.models import Conversation
from kith.orders.actions import do_create_order, do_move_order
from kith.orders.models import OrderIn, OrderStatus, Shipping
from kith.segments.filters import matches, parse, to_query
from kith.segments.records import installed_fields
from tests.orders.conftest import ITEMS, MakeOrder
from tests.support.consumers import drain, recorder

Talk = Callable[..., Awaitable[Conversation]]


async def test_numbers_follow_each_other_per_workspace(talk: Talk, make_order: MakeOrder) -> None:
    ada = await talk("ada")
    made = await asyncio.gather(*(make_order(ada) for _ in range(5)))
    assert sorted(o.number for o in made) == [1, 2, 3, 4, 5]
    assert {o.customer_id for o in made} == {ada.customer_id}
    assert {o.conversation_id for o in made} == {ada.id}


async def test_a_repeated_external_id_returns_the_order_even_when_racing(
    shop: Core, workspace_id: str, talk: Talk
) -> None:
    ada = await talk("ada")
    body = OrderIn.model_validate(
        {
            "customer_id": ada.customer_id,
            "external_id": "shop-42",
            "currency": "CNY",
            "items": ITEMS,
        }
    )
    seen = recorder(shop, ("order.created",))
    results = await asyncio.gather(*(do_create_order(shop, workspace_id, body) for _ in range(4)))
    assert len({order.id for order, _ in results}) == 1
    assert [made for _, made in results].count(True) == 1
    again, made = await do_create_order(shop, workspace_id, body)
    assert (again.id, made) == (results[0][0].id, False)
    assert await shop.store.collection("orders").count_documents({}) == 1
    await drain(shop)
    assert len(seen) == 1  # one order.created, whoever won


async def test_a_used_external_id_with_other_contents_is_refused(
    shop: Core, workspace_id: str, talk: Talk
) -> None:
    ada, grace = await talk("ada"), await talk("grace")
    sent = {"customer_id": ada.customer_id, "external_id": "shop-7", "currency": "CNY"}
    first, _ = await do_create_order(shop, workspace_id, OrderIn(**sent, items=ITEMS))
    await do_move_order(shop, workspace_id, first.id, OrderStatus.paid)
    retry, made = await do_create_order(shop, workspace_id, OrderIn(**sent, items=ITEMS))
    assert (retry.id, retry.status, made) == (first.id, OrderStatus.paid, False)
    other_items = [{**ITEMS[0], "quantity": ITEMS[0]["quantity"] + 1}, *ITEMS[1:]]
    for changed, differs in (
        ({"items": other_items}, ["items"]),
        ({"items": ITEMS, "currency": "USD"}, ["currency"]),
        ({"items": ITEMS, "customer_id": grace.customer_id}, ["customer_id"]),
        ({"items": ITEMS, "conversation_id": ada.id}, ["conversation_id"]),
    ):
        with pytest.raises(Conflict) as refused:
            await do_create_order(shop, workspace_id, OrderIn(**{**sent, **changed}))
        assert refused.value.field == "external_id"
        assert refused.value.limits == {
            "order_id": first.id,
            "number": first.number,
            "differs": differs,
        }
    assert await shop.store.collection("orders").count_documents({}) == 1


async def test_moves_follow_the_allowed_transitions_and_keep_history(
    shop: Core, workspace_id: str, talk: Talk, make_order: MakeOrder
) -> None:
    ada = await talk("ada")
    order = await make_order(ada)
    seen = recorder(shop, ("order.updated",))
    paid = await do_move_order(shop, workspace_id, order.id, OrderStatus.paid)
    shipped = await do_move_order(
        shop, workspace_id, order.id, OrderStatus.shipped, shipping=Shipping(tracking_number="SF1")
    )
    assert [m.status for m in shipped.history] == ["pending", "paid", "shipped"]
    assert shipped.shipping.tracking_number == "SF1"
    with pytest.raises(Conflict) as refused:
        await do_move_order(shop, workspace_id, order.id, OrderStatus.cancelled)
    assert refused.value.limits == {"status": "shipped", "allowed": ["delivered", "refunded"]}
    assert paid.status == OrderStatus.paid
    await drain(shop)
    assert sorted(e.data["status"] for e in seen) == ["paid", "shipped"]
    [event] = [e for e in seen if e.data["status"] == "shipped"]
    assert (event.customer_id, event.conversation_id) == (ada.customer_id, ada.id)
    assert (event.data["order_id"], event.data["number"]) == (order.id, order.number)


async def test_two_agents_moving_at_once_cannot_both_win(
    shop: Core, workspace_id: str, talk: Talk, make_order: MakeOrder
) -> None:
    order = await make_order(await talk("ada"))
    outcomes = await asyncio.gather(
        do_move_order(shop, workspace_id, order.id, OrderStatus.paid),
        do_move_order(shop, workspace_id, order.id, OrderStatus.cancelled),
        return_exceptions=True,
    )
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1


async def summary(shop: Core, customer_id: str) -> dict[str, object]:
    doc = await shop.store.customers.find_one({"_id": customer_id})
    assert doc is not None
    return {k: v for k, v in doc["orders"].items() if k != "rev"}


async def test_orders_feed_the_customer_figures_and_segments(
    shop: Core, workspace_id: str, talk: Talk, make_order: MakeOrder
) -> None:
    ada, grace = await talk("ada"), await talk("grace")
    first = await make_order(ada)  # 2 × 12.50 CNY
    await make_order(ada, currency="USD", items=[{**ITEMS[0], "unit_price": 999}])
    dropped = await make_order(ada)
    await do_move_order(shop, workspace_id, dropped.id, OrderStatus.cancelled)
    figures = await summary(shop, ada.customer_id)
    assert figures["count"] == 2
    assert figures["total"] == {"CNY": 2500, "USD": 1998}
    assert figures["last_at"] is not None
    await do_move_order(shop, workspace_id, first.id, OrderStatus.paid)
    await do_move_order(shop, workspace_id, first.id, OrderStatus.refunded)
    assert (await summary(shop, ada.customer_id))["total"] == {"USD": 1998}

    fields = installed_fields(shop)
    buyers = parse(
        {
            "all": [
                {"field": "orders.count", "op": "gte", "value": 2},
                {"field": "orders.total.USD", "op": "gt", "value": 1000},
                {"field": "orders.last_at", "op": "within_days", "value": 7},
            ]
        },
        fields,
    )
    now = shop.clock.now()
    found = await shop.store.customers.find(to_query(buyers, now)).to_list(None)
    assert [d["_id"] for d in found] == [ada.customer_id]
    docs = await shop.store.customers.find({}).to_list(None)
    assert {d["_id"] for d in docs if matches(buyers, d, now)} == {ada.customer_id}
    assert grace.customer_id not in {d["_id"] for d in found}


async def test_a_merge_moves_orders_and_the_figures_follow(
    shop: Core, workspace_id: str, talk: Talk, make_order: MakeOrder
) -> None:
    ada, grace = await talk("ada"), await talk("grace")
    await make_order(ada)
    await make_order(grace)
    await do_merge_customers(shop, workspace_id, ada.customer_id, grace.customer_id)
    await drain(shop)
    assert (await summary(shop, ada.customer_id))["count"] == 2
    await do_erase_customer(shop, workspace_id, ada.customer_id)
    assert await shop.store.collection("orders").count_documents({}) == 0
