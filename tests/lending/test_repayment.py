"""Repayments worked by hand on the 10,000 / 12 months / 0.05 % a day loan of 2026-01-31."""

from datetime import date
from decimal import Decimal

import pytest

from core.errors import IdempotencyConflict, InvalidAmount
from lending.errors import LoanNotRepayable, Overpayment
from lending.models import InstalmentStatus, LoanFunding, LoanStatus, Repayment
from lending.selectors import ledger_account_balance, ledger_principal_of, unbalanced_entry_ids
from lending.services import loan_originate, loan_payoff_amount, loan_repay
from tests.factories import set_business_date

D = Decimal


@pytest.fixture
def loan(line):
    set_business_date(date(2026, 1, 31))
    return loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")


def repay(loan, amount, key="r"):
    return loan_repay(loan_id=loan.pk, amount=amount, idempotency_key=key, scope="test")


def instalment(loan, seq):
    return loan.instalments.get(seq=seq)


def test_paying_the_first_instalment_on_its_due_date(loan, bank):
    set_business_date(date(2026, 2, 28))
    payment = repay(loan, "916.80")
    assert (payment.principal, payment.interest) == (D("776.80"), D("140.00"))
    first = instalment(loan, 1)
    assert first.status == InstalmentStatus.PAID and first.paid_on == date(2026, 2, 28)
    loan.refresh_from_db()
    assert loan.outstanding_principal == D("9223.20")
    # The bank keeps 70 % of what is outstanding: round(7000 x 9223.20 / 10000) = 6456.24,
    # so 543.76 of the principal and 70 % of the interest (98.00) are passed on to it.
    bank_share = LoanFunding.objects.get(loan=loan, partner_bank=bank)
    assert bank_share.outstanding_principal == D("6456.24")
    assert ledger_account_balance("partner_payable:bank-a") == D("-641.76")
    assert ledger_account_balance("principal_receivable:bank-a") == D("6456.24")
    assert ledger_account_balance("principal_receivable:platform") == D("2766.96")
    assert ledger_account_balance("interest_income") == D("-42.00")
    assert ledger_principal_of(loan) == loan.outstanding_principal
    assert unbalanced_entry_ids() == []


def test_early_payoff_charges_interest_to_the_day(loan):
    set_business_date(date(2026, 2, 10))
    # 10 days on 10,000 at 0.05 %: 50.00, not the 140.00 of the whole first period.
    assert loan_payoff_amount(loan) == D("10050.00")
    payment = repay(loan, "10050.00")
    assert (payment.principal, payment.interest) == (D("10000.00"), D("50.00"))
    loan.refresh_from_db()
    assert loan.status == LoanStatus.PAID_OFF and loan.paid_off_on == date(2026, 2, 10)
    assert set(loan.instalments.values_list("status", flat=True)) == {InstalmentStatus.PAID}
    assert ledger_principal_of(loan) == 0
    assert ledger_account_balance("principal_receivable:bank-a") == 0
    assert ledger_account_balance("partner_funding:bank-a") == 0
    with pytest.raises(LoanNotRepayable):
        repay(loan, "1.00", key="again")


def test_partial_prepayment_pays_interest_to_date_then_the_last_instalments(loan):
    set_business_date(date(2026, 2, 10))
    payment = repay(loan, "5000.00")
    # 50.00 interest to date, 4,950.00 of principal: instalments 12..8 in full
    # (909.92 + 888.92 + 876.67 + 861.97 + 850.97 = 4,388.45) and 561.55 of instalment 7.
    assert (payment.interest, payment.principal) == (D("50.00"), D("4950.00"))
    assert [instalment(loan, s).principal_paid for s in (12, 11, 10, 9, 8)] == [
        D("909.92"), D("888.92"), D("876.67"), D("861.97"), D("850.97")]
    assert instalment(loan, 7).principal_paid == D("561.55")
    # The first period: 50.00 charged so far + 5,050 x 0.0005 x 18 days = 45.45.
    first = instalment(loan, 1)
    assert (first.interest_due, first.interest_paid) == (D("95.45"), D("50.00"))
    # The second period's interest on its new opening principal 5,050 - 776.80 = 4,273.20:
    # 4273.20 x 0.0005 x 31 = 66.2346 -> 66.23.
    assert instalment(loan, 2).interest_due == D("66.23")
    assert instalment(loan, 12).status == InstalmentStatus.PAID
    assert loan_payoff_amount(loan) == D("5050.00")
    set_business_date(date(2026, 2, 11))
    # One more day: 5,050 x 0.0005 = 2.525 -> 2.53.
    assert loan_payoff_amount(loan) == D("5052.53")


def test_overdue_amounts_are_paid_penalty_interest_fee_principal_oldest_first(loan):
    first = instalment(loan, 1)
    first.status, first.penalty_due, first.fee_due = InstalmentStatus.OVERDUE, D("5.00"), D("3.00")
    first.save()
    set_business_date(date(2026, 3, 31))
    payment = repay(loan, "150.00")
    # 5 penalty, 140 interest, 3 fee, then 2 of principal; the second instalment waits.
    assert (payment.penalty, payment.interest, payment.fee, payment.principal) == (
        D("5.00"), D("140.00"), D("3.00"), D("2.00"))
    assert instalment(loan, 2).total_paid == 0
    loan.refresh_from_db()
    assert loan.days_past_due == 31  # Feb 28 to Mar 31
    repay(loan, str(D("774.80") + D("916.80")), key="r2")
    loan.refresh_from_db()
    assert loan.days_past_due == 0
    assert instalment(loan, 1).status == instalment(loan, 2).status == InstalmentStatus.PAID


def test_overpayment_is_refused_and_changes_nothing(loan):
    set_business_date(date(2026, 2, 10))
    with pytest.raises(Overpayment, match="10050.00"):
        repay(loan, "10050.01")
    assert Repayment.objects.count() == 0
    loan.refresh_from_db()
    assert loan.outstanding_principal == D("10000.00")


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "1.001", 12.5])
def test_bad_amounts_are_refused(loan, amount):
    with pytest.raises(InvalidAmount):
        repay(loan, amount)
    assert Repayment.objects.count() == 0


def test_repayment_replay_and_conflict(loan):
    set_business_date(date(2026, 2, 28))
    first = repay(loan, "100.00", key="pay-1")
    assert repay(loan, "100.00", key="pay-1").pk == first.pk
    assert Repayment.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        repay(loan, "200.00", key="pay-1")
