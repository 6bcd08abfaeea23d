"""The demo's orders: Ada's delivered tea set, imported from the shop three weeks ago (an
import tells nobody), and 李雷's paid order pushed by the shop (he is told in Chinese once the
workers run). In the inbox, mark his order shipped with a tracking number from his customer
panel and the shipping notice reaches his conversation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kith.core.context import Core
from kith.orders.actions import do_create_order
from kith.orders.models import OrderIn, Source

ORDERS: dict[str, dict[str, Any]] = {
    "ada": {
        "external_id": "demo-shop-1001",
        "currency": "USD",
        "items": [
            {"sku": "TEA-SET", "name": "Porcelain tea set", "quantity": 1, "unit_price": 4800},
            {"sku": "TEA-LJ", "name": "Longjing tea, 100 g", "quantity": 2, "unit_price": 1250},
        ],
        "shipping_fee": 500,
        "status": "delivered",
        "source": "import",
        "shipping": {"address": "1 Demo Street, London", "carrier": "Royal Mail"},
    },
    "lilei": {
        "external_id": "demo-shop-1002",
        "currency": "CNY",
        "items": [{"sku": "TEA-LJ", "name": "龙井茶 100 克", "quantity": 3, "unit_price": 8800}],
        "total": 26400,
        "status": "paid",
        "shipping": {"address": "上海市黄浦区南京东路 1 号"},
    },
}


async def seed_demo_orders(core: Core, workspace_id: str, channel_id: str) -> None:
    now = core.clock.now()
    for external_user, fields in ORDERS.items():
        identity = await core.store.identities.find_one(
            {"workspace_id": workspace_id, "channel_id": channel_id, "external_id": external_user}
        )
        if identity is None:
            continue
        conversation = await core.store.conversations.find_one(
            {"customer_id": identity["customer_id"], "channel_id": channel_id}
        )
        body = OrderIn.model_validate(
            {
                **fields,
                "customer_id": identity["customer_id"],
                "conversation_id": conversation["_id"] if conversation else None,
                "placed_at": now - timedelta(days=20) if fields.get("source") else None,
            }
        )
        await do_create_order(core, workspace_id, body, source=Source.api)
