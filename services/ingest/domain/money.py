"""Exact money: ISO 4217 currencies in use, integer minor units, decimal strings converted without floats."""

from __future__ import annotations

from decimal import Context, Decimal, DecimalException, InvalidOperation, Overflow, Underflow, localcontext
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies

from services.ingest.domain.errors import InvalidRecord

MAX_AMOUNT_MINOR = 10**10
MAX_QUANTITY = 10_000
_MAX_AMOUNT_CHARS = 64


@cache
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes legal tender somewhere today, from CLDR (via babel); historic codes are refused."""
    territories = get_global("territory_currencies")
    return frozenset(code for territory in territories for code in get_territory_currencies(territory, tender=True))


def currency(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRecord("missing_field", "currency is required (ISO 4217, e.g. CNY)")
    code = value.strip().upper()
    if code not in currencies_in_use():
        raise InvalidRecord("unknown_currency", f"{value[:16]!r} is not an ISO 4217 currency in use")
    return code


def minor_units(value: object, currency_code: str, field: str) -> int:
    """A decimal amount (string, or integer) in minor units of ``currency_code``; refuses sub-minor precision."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidRecord("invalid_amount", f"{field} must be a decimal string such as '12.50'")
    if isinstance(value, int) and abs(value) > MAX_AMOUNT_MINOR:  # before str(): huge integers cannot be printed
        raise InvalidRecord("invalid_amount", f"{field} is absurdly large")
    text = str(value).strip()
    if len(text) > _MAX_AMOUNT_CHARS:
        raise InvalidRecord("invalid_amount", f"{field} is too long to be an amount")
    try:
        # Every signal trapped: '1e999999999' would overflow and '1e-999999999' silently round to 0.
        with localcontext(Context(traps=[InvalidOperation, Overflow, Underflow])):
            amount = Decimal(text)
            if not amount.is_finite():
                raise InvalidRecord("invalid_amount", f"{field} must be finite")
            scaled = amount.scaleb(get_currency_precision(currency_code))
            exact = scaled == scaled.to_integral_value()
    except DecimalException:
        raise InvalidRecord("invalid_amount", f"{field} {text[:32]!r} is not a decimal number") from None
    if not exact:
        raise InvalidRecord("invalid_amount", f"{field} {text} has more decimals than {currency_code} allows")
    if abs(scaled) > MAX_AMOUNT_MINOR:  # before int(): a huge exponent would build a huge integer
        raise InvalidRecord("invalid_amount", f"{field} {text} is absurdly large")
    return amount_minor(int(scaled), field)


def amount_minor(value: object, field: str) -> int:
    """A non-negative integer amount in minor units, within a sane bound."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecord("invalid_amount", f"{field} must be an integer number of minor units")
    if value < 0:
        raise InvalidRecord("invalid_amount", f"{field} is negative ({value})")
    if value > MAX_AMOUNT_MINOR:
        raise InvalidRecord("invalid_amount", f"{field} {value} is absurdly large")
    return value


def quantity(value: object, field: str = "qty") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecord("invalid_quantity", f"{field} must be a whole number of units")
    if value <= 0:
        raise InvalidRecord("invalid_quantity", f"{field} must be positive, got {value}")
    if value > MAX_QUANTITY:
        raise InvalidRecord("invalid_quantity", f"{field} {value} exceeds {MAX_QUANTITY} units")
    return value
