"""Refunds and cancellations, from the inbox (`/app/api/orders`) and from a shop
(`/api/v1/orders`): only where the status machine allows them, each with an optional reason
kept on the move, and the customer told once, in their language, through the notices path
(so WeChat's 48-hour window holds for them as for the others)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Event, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.orders.notices import consume
from tests.orders.conftest import ITEMS
from tests.orders.test_api import shop_api, with_orders  # noqa: F401 (fixtures, found by name)
from tests.support.cast import inbound
from tests.support.consumers import drain
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


async def told(core: Core, conversation_id: str) -> list[str]:
    """What the customer was sent on that conversation, oldest first."""
    query = {"conversation_id": conversation_id, "direction": "out", "private": {"$ne": True}}
    docs = await core.store.messages.find(query).sort("created_at", 1).to_list(None)
    return [d["text"] for d in docs]


async def redeliver(core: Core) -> None:
    """Every order event handed to the notices consumer again, as after a worker's crash."""
    for doc in await core.store.events.find({"type": {"$regex": "^order\\."}}).to_list(None):
        await consume(core, Event.from_doc(doc))


async def li_on_the_shop(core: Core, cast: Cast) -> str:  # noqa: F811
    """李雷 (locale zh-CN) writes to the shop: his conversation's id."""
    received = await ingest(core, cast.shop, inbound(cast.shop, "li", "我要退货"))
    return received.conversation.id


async def test_an_agent_refunds_a_paid_order_and_the_customer_is_told_once_in_chinese(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    conversation_id = await li_on_the_shop(core, cast)
    alice = await browser("alice")
    body = {"conversation_id": conversation_id, "currency": "CNY", "items": ITEMS}
    made = await alice.api("POST", "/orders", json={**body, "status": "paid"})
    assert made.status_code == 201, made.text
    order = made.json()
    assert order["moves"] == ["refunded", "shipped"]  # what the panel offers
    url = f"/orders/{order['id']}"
    await drain(core)

    refund = {"status": "refunded", "reason": "  退货：茶叶受潮  "}
    first, again = await asyncio.gather(
        alice.api("PATCH", url, json=refund), alice.api("PATCH", url, json=refund)
    )
    assert sorted([first.status_code, again.status_code]) == [200, 409]
    done = first if first.status_code == 200 else again
    refused = again if done is first else first
    assert refused.json()["error"]["limits"] == {"status": "refunded", "allowed": []}
    last = done.json()["history"][-1]
    assert (last["status"], last["reason"], last["by"]["name"]) == (
        "refunded",
        "退货：茶叶受潮",
        "Alice",
    )
    assert done.json()["moves"] == []
    retried = await alice.api("PATCH", url, json=refund)  # a retry after the answer was lost
    assert retried.status_code == 409
    await drain(core)
    await redeliver(core)
    assert await told(core, conversation_id) == [
        f"感谢您的付款！订单 #{order['number']} 已收到 25.00 CNY。",
        f"您的订单 #{order['number']} 已退款 25.00 CNY，款项可能需要几个工作日到账。",
    ]
    stored = (await alice.api("GET", url)).json()
    assert [(n["status"], n["outcome"]) for n in stored["notices"]] == [
        ("paid", "queued"),
        ("refunded", "queued"),
    ]
    event = await core.store.events.find_one({"type": "order.updated", "data.status": "refunded"})
    assert event is not None and event["data"]["reason"] == "退货：茶叶受潮"
    customer = await core.store.customers.find_one({"_id": stored["customer_id"]})
    assert customer is not None and customer["orders"]["total"] == {}  # worth nothing now


async def test_a_shop_cancels_a_pending_order_and_the_customer_is_told_in_english(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,  # noqa: F811
) -> None:
    conversation_id = cast.conversations["shop"]  # Ada's
    body = {"conversation_id": conversation_id, "currency": "CNY", "items": ITEMS}
    order = (await shop_api.post("/api/v1/orders", json=body)).json()
    assert order["moves"] == ["cancelled", "paid"]
    url = f"/api/v1/orders/{order['id']}"
    # No move the status machine forbids: a pending order is cancelled, not refunded.
    refund = await shop_api.patch(url, json={"status": "refunded"})
    assert refund.status_code == 409
    assert refund.json()["error"]["limits"] == {
        "status": "pending",
        "allowed": ["cancelled", "paid"],
    }
    cancelled = await shop_api.patch(url, json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["history"][-1]["reason"] is None
    await drain(core)
    await redeliver(core)
    assert await told(core, conversation_id) == [
        f"Your order #{order['number']} has been cancelled."
    ]
    again = await shop_api.patch(url, json={"status": "cancelled"})
    assert again.status_code == 409


async def test_an_order_pushed_already_cancelled_or_refunded_tells_nobody(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,  # noqa: F811
) -> None:
    conversation_id = cast.conversations["shop"]
    for n, status in enumerate(("cancelled", "refunded")):
        body = {
            "conversation_id": conversation_id,
            "external_id": f"shop-{n}",
            "currency": "CNY",
            "items": ITEMS,
            "status": status,
        }
        made = await shop_api.post("/api/v1/orders", json=body)
        assert made.status_code == 201, made.text
    await drain(core)
    assert await told(core, conversation_id) == []


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"reason": "changed my mind"}, "reason"),  # a reason goes with a move
        ({"status": "cancelled", "reason": "x" * 501}, "reason"),
        (
            {"status": "paid", "shipping": {"tracking_number": "S" * 101}},
            "shipping.tracking_number",
        ),
        ({"status": "paid", "shipping": {"carrier": "C" * 101}}, "shipping.carrier"),
        ({"status": "lost"}, "status"),
    ],
)
async def test_bad_moves_are_422s_naming_the_field(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
    patch: dict[str, Any],
    field: str,
) -> None:
    alice = await browser("alice")
    body = {"conversation_id": cast.conversations["shop"], "currency": "CNY", "items": ITEMS}
    order = (await alice.api("POST", "/orders", json=body)).json()
    refused = await alice.api("PATCH", f"/orders/{order['id']}", json=patch)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == field
    unchanged = (await alice.api("GET", f"/orders/{order['id']}")).json()
    assert (unchanged["status"], len(unchanged["history"])) == ("pending", 1)


async def test_outside_the_wechat_window_a_refund_is_a_note_for_the_agents(
    core: Core,
    cast: Cast,  # noqa: F811
    shop_api: httpx.AsyncClient,  # noqa: F811
    clock: ManualClock,
) -> None:
    config = {"app_id": "wx0123456789abcdef", "app_secret": "s" * 16, "token": "tok123"}
    wechat, _ = await create_channel(core, cast.workspace_id, "wechat", "公众号", config)
    user = InboundUser(id="o-li", locale="zh-CN")
    message = InboundMessage.on(wechat, channel_message_id="w-1", user=user, text="退款")
    conversation = (await ingest(core, wechat, message)).conversation
    body = {"conversation_id": conversation.id, "currency": "CNY", "items": ITEMS}
    order = (await shop_api.post("/api/v1/orders", json={**body, "status": "paid"})).json()
    await drain(core)
    clock.advance(timedelta(hours=49).total_seconds())
    moved = await shop_api.patch(f"/api/v1/orders/{order['id']}", json={"status": "refunded"})
    assert moved.status_code == 200, moved.text
    await drain(core)
    await redeliver(core)
    assert len(await told(core, conversation.id)) == 1  # the paid notice, inside the window
    stored = (await shop_api.get(f"/api/v1/orders/{order['id']}")).json()
    assert [(n["status"], n["outcome"], n["reason"]) for n in stored["notices"]] == [
        ("paid", "queued", None),
        ("refunded", "skipped", "wechat_window_closed"),
    ]
    notes = await core.store.messages.find(
        {"conversation_id": conversation.id, "private": True}
    ).to_list(None)
    assert [n["wording"]["terms"]["status"] for n in notes] == ["orders_status_refunded"]
