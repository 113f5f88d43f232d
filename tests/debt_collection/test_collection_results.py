"""The dashboards' amount recovered by month (debt_collection.selectors.collection_results):
repayments and recoveries on any loan of a customer, counted on dates when the customer had a
case open, both ends of the case included, each payment once."""

from datetime import date
from decimal import Decimal

import pytest

from debt_collection.models import CollectionCase
from debt_collection.selectors import collection_results
from lending.models import Loan, Repayment
from lending.models.loans import Recovery
from tests.factories import (
    CashLoanProductFactory,
    CreditLineFactory,
    UserFactory,
    set_business_date,
)

pytestmark = pytest.mark.django_db
D = Decimal


def loan_of(customer, product_code="cash"):
    line = CreditLineFactory(customer=customer, product=CashLoanProductFactory(code=product_code))
    return Loan.objects.create(line=line, principal=D("5000.00"), term_months=6,
                               method="equal_instalment", daily_rate=D("0.00050000"),
                               apr=D("18.25"), disbursed_on=date(2025, 10, 1),
                               outstanding_principal=D("5000.00"))


def repaid(loan, day, amount):
    Repayment.objects.create(loan=loan, amount=D(amount), principal=D(amount), interest=0,
                             fee=0, penalty=0, paid_on=day)


def case(customer, opened_on, closed_on=None):
    CollectionCase.objects.create(
        customer=customer, bucket="M1", days_past_due=5, amount_overdue=D("100.00"),
        opened_on=opened_on, closed_on=closed_on, updated_on=closed_on or opened_on,
        status="closed" if closed_on else "open")


def test_amount_recovered_counts_payments_in_a_case_window_once():
    set_business_date(date(2026, 3, 20))
    # Ann: a case Jan 10 - Feb 5, then another opened the day the first closed; two loans on
    # two lines, both hers.
    ann = UserFactory()
    ann_cash, ann_other = loan_of(ann), loan_of(ann, "other")
    case(ann, date(2026, 1, 10), date(2026, 2, 5))
    case(ann, date(2026, 2, 5))
    repaid(ann_cash, date(2026, 1, 9), "1000")  # the day before her first case: not counted
    repaid(ann_cash, date(2026, 1, 10), "11")  # the day it opened
    repaid(ann_cash, date(2026, 1, 31), "22")
    repaid(ann_cash, date(2026, 2, 5), "40")  # in both cases' windows: counted once
    repaid(ann_other, date(2026, 2, 20), "300")  # her other line's loan
    Recovery.objects.create(loan=ann_other, amount=D("100"), received_on=date(2026, 3, 2))
    # Bob: a case Feb 1 - Feb 10.
    bob = UserFactory()
    bob_cash = loan_of(bob)
    case(bob, date(2026, 2, 1), date(2026, 2, 10))
    repaid(bob_cash, date(2026, 2, 10), "5")  # the day it closed
    repaid(bob_cash, date(2026, 2, 11), "7000")  # after: not counted
    repaid(bob_cash, date(2026, 3, 3), "9000")
    # Cleo never had a case; Dan's case opened before the three months shown.
    repaid(loan_of(UserFactory()), date(2026, 2, 15), "50000")
    dan = UserFactory()
    dan_cash = loan_of(dan)
    case(dan, date(2025, 12, 1))
    repaid(dan_cash, date(2025, 12, 15), "7")  # December is not among the months shown
    repaid(dan_cash, date(2026, 1, 2), "3")

    results = collection_results(months=3)

    assert [(r["month"], r["amount_recovered"]) for r in results] == [
        (date(2026, 1, 1), D("36.00")),  # 11 + 22 (Ann) + 3 (Dan)
        (date(2026, 2, 1), D("345.00")),  # 40 + 300 (Ann) + 5 (Bob)
        (date(2026, 3, 1), D("100.00")),  # Ann's recovery
    ]
