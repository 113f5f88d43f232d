"""Shared signals are recorded only with consent, checked field by field, and replace the last."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import CustomerSignals
from accounts.services import customer_signals_record
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db
DAY = date(2026, 5, 1)


def test_recorded_then_replaced_with_unshared_fields_left_empty():
    profile = ProfileFactory()
    customer_signals_record(user=profile.user, observed_on=DAY, shopping_orders_per_month="4.5",
                            bills_on_time_share=Decimal("0.9"), devices_last_year=2)
    customer_signals_record(user=profile.user, observed_on=date(2026, 6, 1),
                            account_age_months=30)
    signals = CustomerSignals.objects.get(user=profile.user)
    assert (signals.observed_on, signals.account_age_months) == (date(2026, 6, 1), 30)
    assert signals.shopping_orders_per_month is None and signals.devices_last_year is None


def test_no_consent_no_signals():
    profile = ProfileFactory(consent_data_use=False)
    with pytest.raises(ValidationError, match="consented"):
        customer_signals_record(user=profile.user, observed_on=DAY, account_age_months=3)
    assert not CustomerSignals.objects.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("bills_on_time_share", Decimal("1.01")), ("bills_on_time_share", -1),
    ("shopping_spend_per_month", 12.5), ("devices_last_year", "2"),
    ("account_age_months", 1.0), ("shopping_orders_per_month", "many"),
    ("shopping_orders_per_month", "NaN"), ("phone_number_months", True),
])
def test_bad_values_are_refused_by_field(field, value):
    profile = ProfileFactory()
    with pytest.raises(ValidationError) as refused:
        customer_signals_record(user=profile.user, observed_on=DAY, **{field: value})
    assert field in refused.value.message_dict
    assert not CustomerSignals.objects.exists()


def test_unknown_signal_is_a_programming_error():
    with pytest.raises(TypeError):
        customer_signals_record(user=ProfileFactory().user, observed_on=DAY, mood=3)
