"""Orders: what a customer bought, in integer minor units of one currency, and where it is.

An order's status moves only along `MOVES`; each move is appended to `history`. Totals are
computed from the items (quantity × unit price, plus shipping); a total the client supplies
is checked against them, so a shop and Kith never disagree silently on what was charged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

from kith.core.models import Author, Record
from kith.orders.money import MAX_AMOUNT

Amount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]  # minor units: 1999 is 19.99 USD


class OrderStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    refunded = "refunded"


S = OrderStatus
MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.pending: frozenset({S.paid, S.cancelled}),
    S.paid: frozenset({S.shipped, S.refunded}),
    S.shipped: frozenset({S.delivered, S.refunded}),
    S.delivered: frozenset({S.refunded}),
    S.cancelled: frozenset(),
    S.refunded: frozenset(),
}
# The moves the customer is told about on their channel.
NOTIFIED = frozenset({S.paid, S.shipped, S.delivered, S.cancelled, S.refunded})
# Told only when an order moves there: one a shop pushes already cancelled or refunded is
# history, not news.
ENDINGS = frozenset({S.cancelled, S.refunded})
# What counts towards the customer's figures: a cancelled order was never bought, and a
# refunded one is no longer worth anything.
COUNTED = frozenset(set(S) - {S.cancelled})
VALUED = frozenset(set(S) - {S.cancelled, S.refunded})


class Source(StrEnum):
    chat = "chat"  # an agent, from a conversation
    api = "api"  # a shop or an ERP
    import_ = "import"
    bot = "bot"


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    unit_price: Amount
    amount: Amount | None = None  # quantity × unit_price; checked when given


class Item(ItemIn):
    amount: Amount


class Shipping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(default=None, max_length=1000)
    carrier: str | None = Field(default=None, max_length=100)
    tracking_number: str | None = Field(default=None, max_length=100)


class OrderIn(BaseModel):
    """A new order: for `customer_id`, or the customer of `conversation_id`."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = Field(default=None, min_length=1, max_length=64)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    items: list[ItemIn] = Field(min_length=1, max_length=200)
    shipping_fee: Amount = 0
    total: Amount | None = None  # items plus shipping; checked when given
    status: OrderStatus = OrderStatus.pending
    shipping: Shipping | None = None
    source: Source | None = None  # defaults to where it came from (api, chat)
    placed_at: AwareDatetime | None = None  # an imported order's own date; else now

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.customer_id is None and self.conversation_id is None:
            raise ValueError("give customer_id or conversation_id")
        return self


class OrderPatch(BaseModel):
    """A move to `status` and/or shipping details (merged field by field); `reason`, why the
    order moved (a refund's or a cancellation's), is kept on the move, for the agents."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus | None = None
    shipping: Shipping | None = None
    reason: str | None = Field(default=None, max_length=500)


class Move(BaseModel):
    status: OrderStatus
    at: datetime
    by: Author
    reason: str | None = None


class Notice(BaseModel):
    """What the customer was told of a move, or why not (outside the channel's window …)."""

    status: OrderStatus
    outcome: str  # queued | skipped
    reason: str | None = None
    message_id: str | None = None
    conversation_id: str | None = None
    at: datetime


class Order(Record):
    number: int
    customer_id: str
    conversation_id: str | None = None
    external_id: str | None = None
    currency: str
    items: list[Item]
    subtotal: int
    shipping_fee: int = 0
    total: int
    status: OrderStatus
    history: list[Move]
    shipping: Shipping = Shipping()
    source: Source
    placed_at: datetime
    created_at: datetime
    updated_at: datetime
    notices: list[Notice] = Field(default_factory=list)


class Summary(BaseModel):
    """Kept on the customer document as `orders` (what segments read): `count` of orders not
    cancelled, `last_at` the latest one's date, `total` the lifetime value per currency."""

    count: int = 0
    last_at: datetime | None = None
    total: dict[str, int] = {}
