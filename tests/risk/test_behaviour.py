"""Behaviour features on a hand-made history, with exact expected values."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from core.audit import actor_system
from lending import services
from lending.models import CreditLine
from lending.selectors import amount_due_on
from lending.services.extension import loan_term_extend
from risk.features.application import features_hash
from risk.features.behaviour import (
    BEHAVIOUR_FEATURE_NAMES,
    BEHAVIOUR_FEATURES,
    BEHAVIOUR_FEATURES_HASH,
    behaviour_columns,
    behaviour_matrix,
)
from tests.factories import CreditLineFactory, UserFactory, set_business_date

pytestmark = pytest.mark.django_db


def _pay_due(loan, day):
    set_business_date(day)
    services.loan_repay(loan_id=loan.pk, amount=amount_due_on(loan, day),
                        idempotency_key=f"pay-{day}", scope="test")


@pytest.fixture
def history(bank):
    """A 6,000 loan in six equal principal parts from 2026-01-10 (due on the 10th of each
    month): the first paid on time, the second 15 days late, the third and fourth not at all;
    the limit lowered from 20,000 to 15,000 on 2026-04-20."""
    set_business_date(date(2026, 1, 10))
    line = CreditLineFactory(credit_limit=Decimal("20000.00"))
    loan = services.loan_originate(line_id=line.pk, principal=Decimal("6000.00"), term_months=6,
                                   method="equal_principal", idempotency_key="draw",
                                   scope="test")
    _pay_due(loan, date(2026, 2, 10))
    _pay_due(loan, date(2026, 3, 25))
    set_business_date(date(2026, 4, 20))
    services.line_limit_lower(line_id=line.pk, new_limit=Decimal("15000.00"),
                              reason="test", actor=actor_system("tests"))
    return line.customer_id


def _features(user_ids, as_of):
    matrix = behaviour_matrix(behaviour_columns(user_ids, as_of), as_of)
    assert matrix.shape == (len(user_ids), len(BEHAVIOUR_FEATURES))
    assert matrix.dtype == np.float32
    return [dict(zip(BEHAVIOUR_FEATURE_NAMES, row.tolist(), strict=True)) for row in matrix]


def test_features_at_the_end_of_the_story(history):
    [row] = _features([history], date(2026, 5, 20))
    assert row == pytest.approx({
        "utilisation": 4000 / 15000,  # two of six thousand repaid; the lowered limit
        "on_time_share": 0.25,  # four due, the first on time
        "worst_dpd_3m": 40.0,  # the April instalment, unpaid for 40 days
        "worst_dpd_6m": 40.0,
        "worst_dpd_12m": 40.0,
        "days_past_due_now": 40.0,
        "months_on_book": 4.0,
        "limit_changes_6m": 1.0,
        "daily_rate_drawn": 0.0005,  # the rate the loan was drawn at
    })


def test_features_as_of_an_earlier_day_ignore_what_came_later(history):
    [row] = _features([history], date(2026, 3, 20))
    assert row == pytest.approx({
        "utilisation": 5000 / 20000,  # the limit before it was lowered; the late payment not in
        "on_time_share": 0.5,
        "worst_dpd_3m": 10.0,  # the March instalment, 10 days late so far
        "worst_dpd_6m": 10.0,
        "worst_dpd_12m": 10.0,
        "days_past_due_now": 10.0,
        "months_on_book": 2.0,
        "limit_changes_6m": 0.0,
        "daily_rate_drawn": 0.0005,
    })


def test_days_past_due_keep_counting_while_unpaid(history):
    set_business_date(date(2026, 7, 1))
    [row] = _features([history], date(2026, 7, 1))
    assert row["worst_dpd_3m"] == 82.0 and row["days_past_due_now"] == 82.0
    [row] = _features([history], date(2026, 6, 26))
    assert row["worst_dpd_3m"] == 77.0
    assert row["on_time_share"] == pytest.approx(0.2)  # five due (June's too), one on time


def test_a_late_payment_counts_the_days_until_it_was_paid(history):
    """By 2026-04-09 only the March instalment had been late: paid 15 days late."""
    [row] = _features([history], date(2026, 4, 9))
    assert row["worst_dpd_3m"] == 15.0 and row["worst_dpd_12m"] == 15.0
    assert row["days_past_due_now"] == 0.0
    assert row["on_time_share"] == pytest.approx(0.5)


def test_a_customer_without_a_line_and_the_order_of_rows(history):
    newcomer = UserFactory()
    rows = _features([newcomer.pk, history], date(2026, 5, 20))
    assert rows[1]["days_past_due_now"] == 40.0
    assert rows[0]["utilisation"] == 0.0
    assert np.isnan(rows[0]["on_time_share"]) and np.isnan(rows[0]["months_on_book"])
    assert rows[0]["worst_dpd_12m"] == 0.0 and rows[0]["limit_changes_6m"] == 0.0
    assert np.isnan(rows[0]["daily_rate_drawn"])  # nothing drawn


def test_definitions_have_a_fingerprint():
    assert BEHAVIOUR_FEATURES_HASH == features_hash(BEHAVIOUR_FEATURES)
    assert len(set(BEHAVIOUR_FEATURE_NAMES)) == len(BEHAVIOUR_FEATURES)


def test_a_raise_is_not_counted_as_a_limit_reduction(history):
    """The 2026-04-20 cut counts; a raise on 2026-05-01 (the nightly rescoring's, say) does
    not, and the limit as of 2026-04-30 is the cut one (the later raise undone)."""
    line = CreditLine.objects.get(customer_id=history)
    set_business_date(date(2026, 5, 1))
    services.line_limit_raise(line_id=line.pk, new_limit=Decimal("18000.00"), reason="test",
                              actor=actor_system("tests"))
    [after] = _features([history], date(2026, 5, 1))
    assert after["limit_changes_6m"] == 1.0
    assert after["utilisation"] == pytest.approx(4000 / 18000)
    [before] = _features([history], date(2026, 4, 30))
    assert before["limit_changes_6m"] == 1.0
    assert before["utilisation"] == pytest.approx(4000 / 15000)


def test_an_extended_loan_counts_its_replaced_instalments_as_they_stood(history):
    """Extended by a month on 2026-05-20: the April and May instalments, due before and unpaid,
    were late until the extension settled them (40 and 10 days), and stay due and not on time;
    June's, not yet due then, never fell due. The carried row and the first new instalment fall
    due on 2026-06-10, unpaid."""
    loan = CreditLine.objects.get(customer_id=history).loans.get()
    set_business_date(date(2026, 5, 20))
    loan_term_extend(loan_id=loan.pk, extra_months=1, reason="test", actor=actor_system("tests"))
    [after] = _features([history], date(2026, 5, 21))
    assert after["days_past_due_now"] == 0.0  # nothing unpaid past its due date
    assert after["worst_dpd_3m"] == 40.0  # April's, until the extension
    assert after["on_time_share"] == pytest.approx(1 / 4)  # Feb on time; Mar, Apr, May not
    [later] = _features([history], date(2026, 6, 15))
    assert later["days_past_due_now"] == 5.0  # the rows due on 2026-06-10
    assert later["on_time_share"] == pytest.approx(1 / 6)  # and those two, not June's old row
