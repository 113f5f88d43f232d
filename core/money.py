"""Money and rates as Decimal: the one place amounts are parsed, rounded and stored.

A float never becomes an amount: it is refused here, at the door. Amounts are stored as
Decimal(18, 2) and rates as Decimal(10, 8) everywhere."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

from .errors import InvalidAmount

CENT = Decimal("0.01")
RATE_QUANTUM = Decimal("1e-8")
# Decimal(18, 2) holds amounts below 10^16.
AMOUNT_LIMIT = Decimal("1e16")


def money_field(**kwargs):
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def rate_field(**kwargs):
    return models.DecimalField(max_digits=10, decimal_places=8, **kwargs)


def round_money(value: Decimal) -> Decimal:
    """Round half-up to the cent; done once, where an amount is posted or scheduled."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value, *, what="amount") -> Decimal:
    """Parse a Decimal, int or numeric string; refuse floats, NaN, infinities and garbage."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidAmount(f"{what} must be a decimal string or Decimal, not a float.")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidAmount(f"{what} is not a number: {value!r}.") from None
    else:
        raise InvalidAmount(f"{what} has an unsupported type: {type(value).__name__}.")
    if not result.is_finite():
        raise InvalidAmount(f"{what} must be a finite number.")
    return result


def to_amount(value, *, what="amount", allow_zero=False) -> Decimal:
    """An amount with at most two decimals that fits the money columns: greater than zero, or
    zero or more with `allow_zero`."""
    amount = to_decimal(value, what=what)
    if allow_zero and amount < 0:
        raise InvalidAmount(f"{what} cannot be negative.")
    if not allow_zero and amount <= 0:
        raise InvalidAmount(f"{what} must be greater than zero.")
    if amount != amount.quantize(CENT):
        raise InvalidAmount(f"{what} has more than two decimals.")
    if amount >= AMOUNT_LIMIT:
        raise InvalidAmount(f"{what} is too large.")
    return amount.quantize(CENT)


def to_rate(value, *, what="rate") -> Decimal:
    """A rate as the rate columns store it: at most eight decimals."""
    rate = to_decimal(value, what=what)
    if rate != rate.quantize(RATE_QUANTUM):
        raise InvalidAmount(f"{what} has more than eight decimals.")
    return rate.quantize(RATE_QUANTUM)


def to_money(value, *, what="amount") -> Decimal:
    """A positive amount with at most two decimals."""
    return to_amount(value, what=what)
