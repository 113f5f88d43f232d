"""Recording the behavioural data a customer consented to share (their shopping and payment
accounts' summary), as it arrives from the data provider."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import CustomerProfile, CustomerSignals
from core.errors import InvalidAmount
from core.money import to_decimal

# name -> (kind, smallest, largest); every field may also be None (not shared).
SIGNAL_FIELDS = {
    "shopping_orders_per_month": ("decimal", Decimal(0), Decimal("999999.99")),
    "shopping_spend_per_month": ("decimal", Decimal(0), Decimal("1e15")),
    "bills_on_time_share": ("decimal", Decimal(0), Decimal(1)),
    "account_age_months": ("integer", 0, 12 * 100),
    "phone_number_months": ("integer", 0, 12 * 100),
    "devices_last_year": ("integer", 0, 1000),
}


def _checked(name, value):
    kind, smallest, largest = SIGNAL_FIELDS[name]
    if value is None:
        return None
    if isinstance(value, bool | float):
        raise ValidationError({name: "Give a whole number or a decimal, not a float."})
    if kind == "integer" and not isinstance(value, int):
        raise ValidationError({name: "Give a whole number."})
    try:
        number = to_decimal(value, what=name)
    except InvalidAmount:
        raise ValidationError({name: "Give a number."}) from None
    if not smallest <= number <= largest:
        raise ValidationError({name: f"Give a value from {smallest} to {largest}."})
    return value if kind == "integer" else number


def signals_checked(fields) -> dict:
    """Every known signal checked (ValidationError keyed by field); missing ones are None."""
    unknown = set(fields) - set(SIGNAL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown signals {sorted(unknown)}; known: {sorted(SIGNAL_FIELDS)}.")
    return {name: _checked(name, fields.get(name)) for name in SIGNAL_FIELDS}


def customer_signals_record(*, user, observed_on: date, **fields) -> CustomerSignals:
    """Replace the customer's shared signals with these (missing fields: not shared). Only a
    customer who consented to the use of their data can have any."""
    values = signals_checked(fields)
    if not CustomerProfile.objects.filter(user=user, consent_data_use=True).exists():
        raise ValidationError("The customer has not consented to the use of their data.")
    with transaction.atomic():
        signals, _created = CustomerSignals.objects.update_or_create(
            user=user, defaults={"observed_on": observed_on, **values})
    return signals
