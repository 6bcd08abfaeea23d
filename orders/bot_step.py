"""The bot step `create_order`: a flow that asked the customer for a product, a quantity and
an address (`ask` steps, into customer attributes) places the order (source `bot`).

A feature of its own, listed with the base features, because bots read their step types from
those when the app is put together (as `sequences.bot_step` does). The order's external id
derives from the event the turn answers, so a retried turn places nothing twice. An answer
that names no offered product, or a quantity that is not a whole number from 1 to 1,000, places
nothing: the bot says `invalid_text` and goes on (a later `condition` step can branch on the
attribute `order_number`, set when an order was placed).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from kith.bots.flows import LocalizedText, Outcome, StepBase, StepType, localized
from kith.core.errors import KithError
from kith.core.features import Feature
from kith.core.models import Author, AuthorKind
from kith.orders.actions import do_create_order
from kith.orders.models import ItemIn, OrderIn, Shipping, Source
from kith.orders.money import EXPONENTS, shown

if TYPE_CHECKING:
    from kith.bots.engine import BotEngine, Turn

log = logging.getLogger(__name__)
ATTRIBUTE = r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}$"
MAX_QUANTITY = 1000
PLACED = {
    "en": "Thank you! Your order #{number} ({total}) is placed.",
    "zh": "谢谢！您的订单 #{number}（{total}）已下单。",
}
REFUSED = {
    "en": "Sorry, I could not place that order: a person will help you.",
    "zh": "抱歉，无法下单，稍后会有客服为您处理。",
}


class Product(BaseModel):
    """A product the flow offers; the customer's answer picks it by sku or name (any case)."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    unit_price: StrictInt = Field(ge=0, le=2**53)


class CreateOrder(StepBase):
    """Place an order for the conversation's customer from what earlier steps collected."""

    type: Literal["create_order"] = "create_order"
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    products: list[Product] = Field(min_length=1, max_length=50)
    product_attribute: str = Field(pattern=ATTRIBUTE)
    quantity_attribute: str | None = Field(default=None, pattern=ATTRIBUTE)
    address_attribute: str | None = Field(default=None, pattern=ATTRIBUTE)
    text: LocalizedText = Field(default_factory=lambda: dict(PLACED))
    invalid_text: LocalizedText = Field(default_factory=lambda: dict(REFUSED))

    @field_validator("currency")
    @classmethod
    def _known(cls, currency: str) -> str:
        if currency not in EXPONENTS:
            raise ValueError(f"{currency} is not an ISO 4217 currency Kith knows")
        return currency


def _pick(step: CreateOrder, answer: object) -> Product | None:
    wanted = str(answer or "").strip().casefold()
    for product in step.products:
        if wanted in (product.sku.casefold(), product.name.casefold()):
            return product
    return None


def _quantity(answer: object) -> int | None:
    if answer is None:
        return 1
    text = str(answer).strip()
    if isinstance(answer, float) and answer.is_integer():
        text = str(int(answer))
    if not text.isdigit() or not 1 <= int(text) <= MAX_QUANTITY:
        return None
    return int(text)


async def run_create_order(engine: BotEngine, turn: Turn, step: CreateOrder) -> Outcome:
    attributes = turn.customer.get("attributes", {})
    product = _pick(step, attributes.get(step.product_attribute))
    quantity = _quantity(attributes.get(step.quantity_attribute or "", None))
    if product is None or quantity is None:
        await engine.say(turn, localized(step.invalid_text, turn.language))
        return "next", None
    conversation = turn.conversation
    address = attributes.get(step.address_attribute) if step.address_attribute else None
    body = OrderIn(
        conversation_id=conversation.id,
        external_id=f"bot:{turn.cause}:{step.id}",
        currency=step.currency,
        items=[
            ItemIn(
                sku=product.sku, name=product.name, quantity=quantity, unit_price=product.unit_price
            )
        ],
        shipping=Shipping(address=str(address)[:1000]) if address else None,
    )
    actor = Author(kind=AuthorKind.bot, name=turn.bot.name)
    try:
        order, _ = await do_create_order(
            turn.core, conversation.workspace_id, body, actor, Source.bot
        )
    except KithError as exc:
        log.warning("bot step did not place the order: %s", exc, extra={"step": step.id})
        await engine.say(turn, localized(step.invalid_text, turn.language))
        return "next", None
    await engine.set_attributes(turn, {"order_number": order.number})
    said = localized(step.text, turn.language)
    total = shown(order.total, order.currency)
    await engine.say(turn, said.replace("{number}", str(order.number)).replace("{total}", total))
    return "next", None


feature = Feature(name="order-bot-steps", steps=(StepType(CreateOrder, run_create_order),))
