"""The bot step `create_order`: a flow asks for the product, the quantity and the address,
then places the order (source bot) and says its number; a retried turn places nothing twice,
and an answer naming no offered product places nothing."""

from __future__ import annotations

from typing import Any

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition, StepTypes
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel
from kith.core.pipeline import ingest
from kith.web.app import BASE_FEATURES, bot_step_types
from tests.support.cast import inbound
from tests.support.consumers import drain

BUY: dict[str, Any] = {
    "id": "buy",
    "trigger": {"kind": "keyword", "values": ["buy"]},
    "steps": [
        {"id": "what", "type": "ask", "text": "Which tea?", "attribute": "product",
         "choices": ["Longjing", "Pu-erh"]},
        {"id": "many", "type": "ask", "text": "How many?", "attribute": "qty",
         "validate": "number"},
        {"id": "where", "type": "ask", "text": "Where to?", "attribute": "address"},
        {
            "id": "place",
            "type": "create_order",
            "currency": "CNY",
            "products": [
                {"sku": "TEA-LJ", "name": "Longjing", "unit_price": 8800},
                {"sku": "TEA-PE", "name": "Pu-erh", "unit_price": 6600},
            ],
            "product_attribute": "product",
            "quantity_attribute": "qty",
            "address_attribute": "address",
        },
    ],
}  # fmt: skip


async def bot(shop: Core, workspace_id: str, channel: Channel, flow: dict[str, Any] = BUY) -> None:
    step_types = bot_step_types(BASE_FEATURES)
    install(shop, [BotEngine(KnowledgeBase(), step_types=step_types).feature()])
    definition = BotDefinition.model_validate(
        {"name": "Kithy", "channel_ids": [channel.id], "knowledge_base": False, "flows": [flow]}
    )
    await save_bot(shop, workspace_id, definition, step_types=StepTypes(step_types))


async def say(shop: Core, channel: Channel, text: str) -> None:
    await ingest(shop, channel, inbound(channel, "ada", text))
    await drain(shop)


async def test_a_flow_places_the_order_the_customer_described(
    shop: Core, workspace_id: str, channel: Channel
) -> None:
    await bot(shop, workspace_id, channel)
    for text in ("I want to buy tea", "pu-erh", "3", "1 Tea Street, Hangzhou"):
        await say(shop, channel, text)
    [order] = await shop.store.collection("orders").find({}).to_list(None)
    assert (order["source"], order["total"], order["currency"]) == ("bot", 19800, "CNY")
    assert order["items"][0]["sku"] == "TEA-PE" and order["items"][0]["quantity"] == 3
    assert order["shipping"]["address"] == "1 Tea Street, Hangzhou"
    said = await shop.store.messages.find_one(
        {"direction": "out", "text": "Thank you! Your order #1 (198.00 CNY) is placed."}
    )
    assert said is not None
    # The turn retried (its event handed back to the bots consumer): no second order.
    await shop.store.events.update_many(
        {"type": "message.received"}, {"$addToSet": {"pending": "bots"}}
    )
    await drain(shop)
    assert await shop.store.collection("orders").count_documents({}) == 1


async def test_an_answer_naming_no_product_places_nothing(
    shop: Core, workspace_id: str, channel: Channel
) -> None:
    flow = {**BUY, "steps": [{**BUY["steps"][0], "choices": []}, *BUY["steps"][1:]]}
    await bot(shop, workspace_id, channel, flow)
    for text in ("buy", "oolong", "2", "here"):
        await say(shop, channel, text)
    assert await shop.store.collection("orders").count_documents({}) == 0
    refused = await shop.store.messages.find_one({"direction": "out", "text": {"$regex": "^Sorry"}})
    assert refused is not None
