"""A Core with orders installed, and customers who wrote on an API channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel, Conversation
from kith.core.pipeline import ingest
from kith.orders.actions import do_create_order
from kith.orders.feature import feature
from kith.orders.models import Order, OrderIn
from tests.support.cast import api_channel, inbound

MakeOrder = Callable[..., Awaitable[Order]]
ITEMS = [{"sku": "TEA-1", "name": "Longjing tea", "quantity": 2, "unit_price": 1250}]


@pytest.fixture
async def shop(core: Core) -> Core:
    install(core, [feature(core)])
    await core.start()
    return core


@pytest.fixture
async def channel(shop: Core, workspace_id: str) -> Channel:
    return (await api_channel(shop, workspace_id))[0]


@pytest.fixture
def talk(shop: Core, channel: Channel) -> Callable[..., Awaitable[Conversation]]:
    """`await talk("ada")`: the conversation of a message from a member of the cast."""

    async def say(who: str = "ada", text: str = "hello") -> Conversation:
        return (await ingest(shop, channel, inbound(channel, who, text))).conversation

    return say


@pytest.fixture
def make_order(shop: Core, workspace_id: str) -> MakeOrder:
    """`await make_order(conversation, **fields)`: an order created from that conversation."""

    async def make(conversation: Conversation, **fields: Any) -> Order:
        body = {"conversation_id": conversation.id, "currency": "CNY", "items": ITEMS, **fields}
        order, _ = await do_create_order(shop, workspace_id, OrderIn.model_validate(body))
        return order

    return make
