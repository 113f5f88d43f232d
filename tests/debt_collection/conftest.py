"""A customer whose loan is overdue, with a case open and assigned to a collector."""

from datetime import date

import pytest

from debt_collection.models import CollectionCase
from lending.services import loan_originate
from operations.nightly_close import business_days_advance
from tests.factories import set_business_date

from .staff import make_collector


@pytest.fixture
def overdue_case(line):
    """The loan of tests/debt_collection/test_cases.py (10,000 over 12 months from Jan 31),
    overdue from the close of Mar 3: on Mar 4 a case of 918.64 (916.80 + 4 x 0.46 penalty),
    4 days past due, assigned to the only collector, "alice". Returns (case, loan, alice)."""
    customer = line.customer
    customer.phone = "13812345678"
    customer.save(update_fields=["phone"])
    alice = make_collector("alice")
    set_business_date(date(2026, 1, 31))
    loan = loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    case = CollectionCase.objects.get(customer=customer)
    assert case.assigned_to == alice
    return case, loan, alice
