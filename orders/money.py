"""Money as integers of a currency's minor unit (cents, fen, fils): never floats.

ISO 4217 gives each currency its minor-unit exponent (JPY 0, USD 2, KWD 3). The table holds
the currencies Kith's shops have asked for; a code outside it is refused by name, and adding
one is one line. Amounts are shown through `Decimal`, so 1999 USD is "19.99" exactly.
"""

from __future__ import annotations

from decimal import Decimal

from kith.core.errors import InvalidInput

# ISO 4217 alphabetic code → minor-unit exponent.
EXPONENTS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
    "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MOP": 2, "MXN": 2,
    "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "RUB": 2, "SAR": 2,
    "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "USD": 2, "VND": 0,
    "ZAR": 2,
}  # fmt: skip

# The largest amount stored: BSON's int64, with room for any sum of a customer's orders.
MAX_AMOUNT = 2**53


def exponent(currency: str, field: str = "currency") -> int:
    """The currency's minor-unit exponent, or a 422 naming `field`."""
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise InvalidInput(
            f"{currency!r} is not an ISO 4217 currency Kith knows",
            field=field,
            reason="unknown_currency",
            limits={"currency": currency},
        ) from None


def line_amount(quantity: int, unit_price: int) -> int:
    return quantity * unit_price


def to_major(amount: int, currency: str) -> Decimal:
    """`amount` minor units as an exact decimal of the major unit (1999 USD → 19.99)."""
    places = exponent(currency)
    return Decimal(amount).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def shown(amount: int, currency: str) -> str:
    """For people: "19.99 USD", "1200 JPY", "1.500 KWD"."""
    return f"{to_major(amount, currency):,} {currency}"
