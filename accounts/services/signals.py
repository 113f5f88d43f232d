"""Recording the behavioural data a customer consented to share (their shopping and payment
accounts' summary), as it arrives from the data provider."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import CustomerProfile, CustomerSignals

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
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({name: "Give a number."}) from None
    if not number.is_finite() or not smallest <= number <= largest:
        raise ValidationError({name: f"Give a value from {smallest} to {largest}."})
    return value if kind == "integer" else number


def customer_signals_record(*, user, observed_on: date, **fields) -> CustomerSignals:
    """Replace the customer's shared signals with these (missing fields: not shared). Only a
    customer who consented to the use of their data can have any."""
    unknown = set(fields) - set(SIGNAL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown signals {sorted(unknown)}; known: {sorted(SIGNAL_FIELDS)}.")
    if not CustomerProfile.objects.filter(user=user, consent_data_use=True).exists():
        raise ValidationError("The customer has not consented to the use of their data.")
    values = {name: _checked(name, fields.get(name)) for name in SIGNAL_FIELDS}
    with transaction.atomic():
        signals, _created = CustomerSignals.objects.update_or_create(
            user=user, defaults={"observed_on": observed_on, **values})
    return signals
