"""Money: integers of the currency's minor unit, exponents per ISO 4217, totals checked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from kith.core.errors import InvalidInput
from kith.orders.actions import priced
from kith.orders.models import OrderIn
from kith.orders.money import exponent, shown, to_major


def order(**fields: object) -> OrderIn:
    base: dict[str, object] = {
        "customer_id": "c1",
        "currency": "USD",
        "items": [
            {"sku": "A", "name": "Mug", "quantity": 3, "unit_price": 1999},
            {"sku": "B", "name": "Tea", "quantity": 1, "unit_price": 1},
        ],
    }
    return OrderIn.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("currency", "places", "amount", "text"),
    [
        ("JPY", 0, 1200, "1,200 JPY"),
        ("CNY", 2, 123456, "1,234.56 CNY"),
        ("USD", 2, 5, "0.05 USD"),
        ("EUR", 2, 100, "1.00 EUR"),
        ("KWD", 3, 1500, "1.500 KWD"),
    ],
)
def test_exponents_shape_how_amounts_read(
    currency: str, places: int, amount: int, text: str
) -> None:
    assert exponent(currency) == places
    assert shown(amount, currency) == text


def test_amounts_are_exact_decimals_never_floats() -> None:
    # 0.1 + 0.2 in floats is 0.30000000000000004; in minor units it is 30.
    assert to_major(10 + 20, "USD") == Decimal("0.30")
    assert to_major(2**53, "KWD") == Decimal("9007199254740.992")


def test_the_totals_are_computed_from_the_items() -> None:
    items, subtotal, total = priced(order(shipping_fee=500))
    assert [i.amount for i in items] == [5997, 1]
    assert (subtotal, total) == (5998, 6498)


def test_a_total_that_disagrees_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        priced(order(total=5999))
    assert refused.value.field == "total"
    assert refused.value.limits == {"given": 5999, "computed": 5998}
    assert priced(order(total=5998))[2] == 5998


def test_an_item_amount_that_disagrees_is_refused_naming_the_item() -> None:
    body = order()
    body.items[1].amount = 2
    with pytest.raises(InvalidInput) as refused:
        priced(body)
    assert refused.value.field == "items.1.amount"


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        priced(order(currency="XYZ"))
    assert (refused.value.field, refused.value.reason) == ("currency", "unknown_currency")


@pytest.mark.parametrize("price", [19.99, 20.0, "2000"])
def test_a_price_that_is_not_an_integer_is_refused(price: object) -> None:
    items = [{"sku": "A", "name": "Mug", "quantity": 1, "unit_price": price}]
    with pytest.raises(ValidationError) as refused:
        order(items=items)
    assert refused.value.errors()[0]["loc"] == ("items", 0, "unit_price")


def test_amounts_beyond_what_is_stored_are_refused() -> None:
    huge = [{"sku": "A", "name": "Gold", "quantity": 1_000_000, "unit_price": 2**53}]
    with pytest.raises(InvalidInput) as refused:
        priced(order(items=huge))
    assert refused.value.field == "items.0.quantity"
    with pytest.raises(ValidationError):
        order(placed_at="2026-01-01T00:00:00")  # a date without its offset
