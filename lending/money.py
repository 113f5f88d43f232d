"""Money and rates as Decimal. A float never becomes an amount: it is refused here, at the door."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import InvalidAmount

CENT = Decimal("0.01")


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


def to_money(value, *, what="amount") -> Decimal:
    """A positive amount with at most two decimals."""
    amount = to_decimal(value, what=what)
    if amount <= 0:
        raise InvalidAmount(f"{what} must be greater than zero.")
    if amount != amount.quantize(CENT):
        raise InvalidAmount(f"{what} has more than two decimals.")
    if amount >= Decimal("1e16"):
        raise InvalidAmount(f"{what} is too large.")
    return amount.quantize(CENT)
