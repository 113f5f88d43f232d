"""`amounts_due_by`, the set-based twin of `amount_due_by` that the reminders use, agrees with
it loan by loan and day by day."""

from datetime import date, timedelta

from lending.selectors import amount_due_on, amounts_due_by
from lending.services import loan_originate, loan_repay
from operations.nightly_close import business_days_advance
from tests.factories import CreditLineFactory, set_business_date


def test_the_set_based_amounts_agree_with_the_rule_for_every_loan_and_day(line):
    set_business_date(date(2026, 1, 31))
    loans = [loan_originate(line_id=CreditLineFactory().pk, principal=principal, term_months=6,
                            method="equal_instalment", idempotency_key=f"l{principal}",
                            scope="test")
             for principal in ("3000", "5000", "8000")]
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=35)  # instalment 1 overdue with penalty, instalment 2 too
    # One loan partly paid, one brought current: three different states.
    loan_repay(loan_id=loans[1].pk, amount="300.00", idempotency_key="p", scope="test")
    today = date(2026, 4, 7)
    loan_repay(loan_id=loans[2].pk, amount=str(amount_due_on(loans[2], today)),
               idempotency_key="q", scope="test")
    days = [today - timedelta(days=40), today, today + timedelta(days=30)]
    wanted = {(loan.pk, day) for loan in loans for day in days}
    expected = {(loan.pk, day): amount_due_on(loan, day) for loan in loans for day in days}
    assert amounts_due_by(wanted) == {key: amount for key, amount in expected.items()
                                      if amount > 0}
    # Each state is there: nothing due yet, owed with penalty, partly paid, brought current.
    assert expected[(loans[0].pk, days[0])] == 0
    assert expected[(loans[0].pk, today)] > 0 and expected[(loans[1].pk, today)] > 0
    assert expected[(loans[2].pk, today)] == 0 < expected[(loans[2].pk, days[2])]
