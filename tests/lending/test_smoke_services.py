from decimal import Decimal

from lending.models import LoanStatus
from lending.selectors import ledger_principal_of, unbalanced_entry_ids
from lending.services import loan_originate, loan_payoff_amount, loan_repay
from operations.nightly_close import business_days_advance


def test_borrow_then_pay_off_early(line):
    loan = loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="k1", scope="test")
    assert loan.outstanding_principal == Decimal("10000.00")
    business_days_advance(days=10)
    payoff = loan_payoff_amount(loan)
    # Ten days of interest on 10,000 at 0.05 % a day.
    assert payoff == Decimal("10050.00")
    loan_repay(loan_id=loan.pk, amount=payoff, idempotency_key="r1", scope="test")
    loan.refresh_from_db()
    line.refresh_from_db()
    assert loan.status == LoanStatus.PAID_OFF
    assert line.outstanding_principal == 0
    assert ledger_principal_of(loan) == 0
    assert unbalanced_entry_ids() == []
