"""Application features: exact values for a hand-made applicant, missing signals stay missing,
and protected attributes never reach the model."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from accounts.models import CustomerSignals, Gender, Housing
from risk.features import application as features
from risk.features.application import (
    APPLICATION_FEATURE_NAMES,
    APPLICATION_FEATURES,
    application_columns,
    application_columns_of,
    application_matrix,
    features_hash,
)
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def _row(user_id, as_of=date(2026, 6, 15)):
    matrix = application_matrix(application_columns([user_id]), as_of)
    assert matrix.shape == (1, len(APPLICATION_FEATURES))
    assert matrix.dtype == np.float32
    return dict(zip(APPLICATION_FEATURE_NAMES, matrix[0].tolist(), strict=True))


def test_features_of_a_hand_made_applicant():
    profile = ProfileFactory(birth_date=date(1990, 6, 16), monthly_income=Decimal("8000.00"),
                             monthly_debt_payments=Decimal("2000.00"), employer_months=30,
                             city_tier=2, housing=Housing.RENTED)
    CustomerSignals.objects.create(
        user=profile.user, observed_on=date(2026, 6, 1), shopping_orders_per_month=Decimal("6.5"),
        shopping_spend_per_month=Decimal("1200.00"), bills_on_time_share=Decimal("0.9500"),
        account_age_months=70, phone_number_months=40, devices_last_year=2)
    row = _row(profile.user_id)
    assert row == pytest.approx({
        # One day short of the 36th birthday.
        "age_years": 35.0, "monthly_income": 8000.0, "debt_to_income": 0.25, "employment": 0.0,
        "employer_months": 30.0, "city_tier": 2.0, "housing": 3.0,
        "shopping_orders_per_month": 6.5, "spend_to_income": 0.15,
        "bills_on_time_share": 0.95, "account_age_months": 70.0, "phone_number_months": 40.0,
        "devices_last_year": 2.0,
    })
    assert _row(profile.user_id, date(2026, 6, 16))["age_years"] == 36.0


def test_signals_not_shared_are_missing_not_zero():
    profile = ProfileFactory(housing="")
    row = _row(profile.user_id)
    for name in ("housing", "shopping_orders_per_month", "spend_to_income",
                 "bills_on_time_share", "account_age_months", "phone_number_months",
                 "devices_last_year"):
        assert np.isnan(row[name]), name


@pytest.mark.parametrize(("income", "debt", "expected"), [
    ("0.00", "0.00", 0.0),        # no income and no debt: no burden
    ("0.00", "500.00", 10.0),     # debt with no income: the cap
    ("100.00", "5000.00", 10.0),  # 50x is capped at 10x
    ("4000.00", "1000.00", 0.25),
])
def test_debt_to_income_edges(income, debt, expected):
    profile = ProfileFactory(monthly_income=Decimal(income), monthly_debt_payments=Decimal(debt))
    assert _row(profile.user_id)["debt_to_income"] == pytest.approx(expected)


def test_gender_is_never_an_input():
    assert not {"gender", "ethnicity"} & set(APPLICATION_FEATURE_NAMES)
    female = ProfileFactory(gender=Gender.FEMALE, birth_date=date(1985, 1, 1))
    male = ProfileFactory(gender=Gender.MALE, birth_date=date(1985, 1, 1))
    rows = application_matrix(application_columns([female.user_id, male.user_id]),
                              date(2026, 6, 15))
    np.testing.assert_array_equal(rows[0], rows[1])


def test_rows_follow_the_order_asked_and_unknown_customers_are_refused():
    a, b = ProfileFactory(monthly_income=Decimal("1000")), ProfileFactory(
        monthly_income=Decimal("2000"))
    income = APPLICATION_FEATURE_NAMES.index("monthly_income")
    rows = application_matrix(application_columns([b.user_id, a.user_id]), date(2026, 6, 15))
    assert rows[:, income].tolist() == [2000.0, 1000.0]
    with pytest.raises(LookupError):
        application_columns([a.user_id, 10**9])


def test_one_application_day_per_row():
    a = ProfileFactory(birth_date=date(2000, 3, 1))
    b = ProfileFactory(birth_date=date(2000, 3, 1))
    days = np.array([date(2026, 2, 28), date(2026, 3, 1)], dtype="datetime64[D]")
    rows = application_matrix(application_columns([a.user_id, b.user_id]), days)
    assert rows[:, 0].tolist() == [25.0, 26.0]


def test_the_hash_changes_when_a_definition_changes():
    changed = list(APPLICATION_FEATURES)
    changed[1] = features.Feature("monthly_income", "Income", lambda c, d: c["monthly_income"] * 2,
                                  -1, "up", "down")
    assert features_hash(changed) != features.APPLICATION_FEATURES_HASH
    assert features_hash(APPLICATION_FEATURES) == features.APPLICATION_FEATURES_HASH


@pytest.mark.parametrize(("born", "on", "age"), [
    (date(2000, 3, 1), date(2026, 2, 28), 25),
    (date(2000, 3, 1), date(2026, 3, 1), 26),
    (date(2000, 2, 29), date(2026, 2, 28), 25),  # a leap-day birthday counts from 1 March
    (date(2000, 2, 29), date(2026, 3, 1), 26),
    (date(1999, 12, 31), date(2026, 1, 1), 26),
])
def test_age_is_counted_in_completed_years(born, on, age):
    profile = ProfileFactory(birth_date=born)
    assert _row(profile.user_id, on)["age_years"] == age


def test_the_decision_reads_the_same_columns_as_training():
    """The decision reads one applicant with `risk.selectors.applicant`; training reads many
    with `application_columns`. Both must give the model the same row."""
    from risk.selectors import applicant
    from tests.factories import CashLoanProductFactory

    product = CashLoanProductFactory()
    with_signals = ProfileFactory(housing=Housing.MORTGAGE, monthly_debt_payments=Decimal("750"))
    CustomerSignals.objects.create(
        user=with_signals.user, observed_on=date(2026, 6, 1), shopping_orders_per_month=None,
        shopping_spend_per_month=Decimal("300.00"), bills_on_time_share=Decimal("0.5000"),
        account_age_months=3, phone_number_months=None, devices_last_year=5)
    without_signals = ProfileFactory(housing="")
    for profile in (with_signals, without_signals):
        read = applicant(customer_id=profile.user_id, product=product, today=date(2026, 6, 15))
        np.testing.assert_array_equal(
            application_matrix(application_columns_of(read), date(2026, 6, 15)),
            application_matrix(application_columns([profile.user_id]), date(2026, 6, 15)))
