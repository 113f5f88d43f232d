"""Penalty interest (罚息), accrued by the close step `accrue_penalty` (lending/services/
penalty.py).

The loan of tests/operations/test_close.py: 10,000 over 12 equal monthly instalments at 0.05 % a
day from 2026-01-31 (tests/lending/test_schedule.py), 70 % funded by a partner bank. Instalment
1: 776.80 principal + 140.00 interest = 916.80, due 2026-02-28; instalment 2: 773.84 + 142.96 =
916.80, due 2026-03-31. The product: penalty 0.0005 a day, 3 grace days.

One day's penalty on one instalment: 916.80 x 0.0005 = 0.4584 -> 0.46.
The close of D charges D+1 (the business date the instalment is overdue on); the night an
instalment turns overdue (close of due date + grace) also charges its grace days, so it has
always been charged exactly its days past due, from the day after its due date."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from lending.models import CreditProduct, Instalment, InstalmentStatus, JournalEntry, Posting
from lending.selectors import ledger_account_balance, unbalanced_entry_ids
from lending.services import loan_originate, loan_repay, loans_penalty_accrue, loans_repay_many
from lending.services.batch import PaymentRequest
from lending.services.delinquency import instalments_mark_overdue
from lending.services.penalty import penalty_receivable_by_loan
from operations.nightly_close import business_days_advance
from tests.factories import CreditLineFactory, set_business_date

D = Decimal


def _originate(line, key="loan"):
    set_business_date(date(2026, 1, 31))
    return loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key=key, scope="test")


@pytest.fixture
def loan(line):
    return _originate(line)


def penalty_of(loan):
    return (Instalment.objects.filter(loan=loan)
            .aggregate(due=Sum("penalty_due"), paid=Sum("penalty_paid")))


def assert_books_agree():
    """Every entry balances, and on every loan the penalty receivable is the penalty due less
    the penalty paid."""
    assert unbalanced_entry_ids() == []
    loans = Instalment.objects.values_list("loan_id", flat=True).distinct()
    receivable = penalty_receivable_by_loan(loans)
    for loan_id in loans:
        totals = penalty_of(loan_id)
        assert receivable.get(loan_id, D("0")) == totals["due"] - totals["paid"], loan_id


def test_no_penalty_within_grace_then_grace_days_and_the_next_day_on_the_first_overdue_night(
        loan):
    set_business_date(date(2026, 3, 2))
    business_days_advance(days=1)  # close of Mar 2: still in grace (Mar 1-3)
    assert penalty_of(loan)["due"] == 0
    assert not JournalEntry.objects.filter(kind="penalty_accrual").exists()
    business_days_advance(days=1)  # close of Mar 3: overdue on Mar 4
    # Mar 1, 2, 3 (grace) and Mar 4: 4 x 0.46 = 1.84, all on instalment 1.
    first = loan.instalments.get(seq=1)
    assert first.status == InstalmentStatus.OVERDUE
    assert first.penalty_due == D("1.84")
    loan.refresh_from_db()
    assert loan.days_past_due == 4
    # One entry for the night's chunk: the receivable leg carries the loan.
    entry = JournalEntry.objects.get(kind="penalty_accrual")
    assert (entry.business_date, entry.loan_id) == (date(2026, 3, 3), None)
    assert sorted((p.account.code, p.loan_id, p.amount) for p in entry.postings.all()) == [
        ("penalty_income", None, D("-1.84")), ("penalty_receivable", loan.pk, D("1.84"))]
    assert first.penalty_charged_through == date(2026, 3, 4)
    business_days_advance(days=2)  # closes of Mar 4 and Mar 5: Mar 5 and Mar 6
    # 1.84 + 0.46 + 0.46 = 2.76 = 6 days past due x 0.46.
    assert loan.instalments.get(seq=1).penalty_due == D("2.76")
    loan.refresh_from_db()
    assert loan.days_past_due == 6
    assert ledger_account_balance("penalty_receivable") == D("2.76")
    assert ledger_account_balance("penalty_income") == D("-2.76")
    assert JournalEntry.objects.filter(kind="penalty_accrual").count() == 3
    assert_books_agree()


def test_two_overdue_instalments(loan):
    # Instalment 2 (due Mar 31) turns overdue in the close of Apr 3.
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=31)  # closes of Mar 3 .. Apr 2
    # Mar 3: 1.84; Mar 4 .. Apr 2: 30 nights x 0.46 = 13.80; 15.64 = 34 days x 0.46.
    assert penalty_of(loan)["due"] == D("15.64")
    business_days_advance(days=1)  # close of Apr 3
    # Base 916.80 + 916.80 = 1,833.60 x 0.0005 = 0.9168 -> 0.92 for Apr 4, plus instalment 2's
    # grace days Apr 1-3: 3 x 0.46 = 1.38. 15.64 + 0.92 + 1.38 = 17.94
    # = 35 days x 0.46 (instalment 1) + 4 days x 0.46 (instalment 2).
    assert penalty_of(loan)["due"] == D("17.94")
    # Added to the oldest overdue instalment, which a payment reaches first.
    assert [(i.seq, i.status, i.penalty_due) for i in loan.instalments.filter(seq__lte=3)] == [
        (1, InstalmentStatus.OVERDUE, D("17.94")), (2, InstalmentStatus.OVERDUE, D("0.00")),
        (3, InstalmentStatus.PENDING, D("0.00"))]
    business_days_advance(days=1)  # close of Apr 4: 0.92 for Apr 5
    assert penalty_of(loan)["due"] == D("18.86")
    assert ledger_account_balance("penalty_receivable") == D("18.86")
    assert_books_agree()


def test_the_sqlite_path_charges_the_same(loan, monkeypatch):
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=31)
    assert penalty_of(loan)["due"] == D("15.64")
    instalments_mark_overdue(day=date(2026, 4, 3))  # as the close of Apr 3 does first
    # The demo database's path (Python arithmetic, JournalBatch), same figures as the SQL.
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert loans_penalty_accrue(day=date(2026, 4, 3)) == 1
    assert loans_penalty_accrue(day=date(2026, 4, 3)) == 0
    assert penalty_of(loan)["due"] == D("17.94")
    monkeypatch.undo()
    assert_books_agree()


def test_a_partial_repayment_pays_penalty_first_and_lowers_the_base_from_the_next_day(loan):
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)  # 1.84 for Mar 1-4
    payment = loan_repay(loan_id=loan.pk, amount="500.00", idempotency_key="p", scope="test")
    # Penalty first, then interest, then principal: 1.84 + 140.00 + 358.16 = 500.00.
    assert (payment.penalty, payment.interest, payment.principal) == (
        D("1.84"), D("140.00"), D("358.16"))
    # The accrued penalty is cleared from the receivable, not booked to income again.
    assert ledger_account_balance("penalty_receivable") == 0
    entry = JournalEntry.objects.get(kind="repayment")
    legs = dict(entry.postings.values_list("account__code", "amount"))
    # The bank's 70 % share: round(1.84 x 0.70 = 1.288) = 1.29, passed on from income.
    assert legs["penalty_receivable"] == D("-1.84")
    assert legs["penalty_income"] == D("1.29")
    business_days_advance(days=1)  # close of Mar 4, charging Mar 5
    # Unpaid principal and interest 776.80 - 358.16 = 418.64 x 0.0005 = 0.20932 -> 0.21.
    first = loan.instalments.get(seq=1)
    assert (first.penalty_due, first.penalty_paid) == (D("2.05"), D("1.84"))
    assert ledger_account_balance("penalty_receivable") == D("0.21")
    # Income: 1.84 + 0.21 accrued, less the bank's 1.29.
    assert ledger_account_balance("penalty_income") == D("-0.76")
    assert_books_agree()


def test_paying_everything_due_stops_the_penalty(loan):
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    # 916.80 + 1.84 penalty.
    loan_repay(loan_id=loan.pk, amount="918.64", idempotency_key="p", scope="test")
    assert loan.instalments.get(seq=1).status == InstalmentStatus.PAID
    business_days_advance(days=5)
    assert penalty_of(loan) == {"due": D("1.84"), "paid": D("1.84")}
    assert JournalEntry.objects.filter(kind="penalty_accrual").count() == 1
    assert ledger_account_balance("penalty_receivable") == 0
    # 1.84 accrued, the bank's 1.29 passed on: the platform keeps 0.55.
    assert ledger_account_balance("penalty_income") == D("-0.55")
    assert_books_agree()


def test_running_the_step_twice_for_a_date_changes_nothing(loan):
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=2)  # 1.84 + 0.46
    entries, postings = JournalEntry.objects.count(), Posting.objects.count()
    assert loans_penalty_accrue(day=date(2026, 3, 4)) == 0
    assert loans_penalty_accrue(day=date(2026, 3, 3)) == 0
    assert (JournalEntry.objects.count(), Posting.objects.count()) == (entries, postings)
    assert penalty_of(loan)["due"] == D("2.30")
    assert_books_agree()


def test_loan_id_range_limits_the_step(loan):
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    day = date(2026, 3, 4)  # the business date now; not yet closed
    assert loans_penalty_accrue(day=day, loan_id_from=loan.pk + 1) == 0
    assert loans_penalty_accrue(day=day, loan_id_to=loan.pk - 1) == 0
    assert loans_penalty_accrue(day=day, loan_id_from=loan.pk, loan_id_to=loan.pk) == 1
    assert penalty_of(loan)["due"] == D("2.30")


def test_a_product_without_penalty_charges_nothing(loan):
    CreditProduct.objects.update(penalty_daily_rate=0)
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=3)
    assert penalty_of(loan)["due"] == 0
    assert not JournalEntry.objects.filter(kind="penalty_accrual").exists()


def test_the_batch_repayment_clears_the_receivable_as_loan_repay_does(line):
    one = _originate(line, key="one")
    other = _originate(CreditLineFactory(), key="other")
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=3)  # 1.84 + 0.46 + 0.46 = 2.76 on each
    loan_repay(loan_id=one.pk, amount="919.56", idempotency_key="p", scope="test")
    # What is due today: 916.80 + 2.76 = 919.56.
    [paid] = loans_repay_many([PaymentRequest(loan_id=other.pk, idempotency_key="q",
                                              scope="test")])
    assert (paid.amount, paid.penalty) == (D("919.56"), D("2.76"))
    # Each night both loans were charged in one entry: a receivable leg each, one income leg.
    nights = JournalEntry.objects.filter(kind="penalty_accrual").order_by("business_date")
    assert [sorted((p.loan_id, p.amount) for p in night.postings.all()
                   if p.loan_id is not None) for night in nights] == [
        [(one.pk, D("1.84")), (other.pk, D("1.84"))],
        [(one.pk, D("0.46")), (other.pk, D("0.46"))],
        [(one.pk, D("0.46")), (other.pk, D("0.46"))]]
    assert [night.postings.get(loan=None).amount for night in nights] == [
        D("-3.68"), D("-0.92"), D("-0.92")]

    def legs(loan):
        entry = JournalEntry.objects.get(kind="repayment", loan=loan)
        return sorted((code.split(":")[0], amount) for code, amount in
                      entry.postings.values_list("account__code", "amount"))

    assert legs(one) == legs(other)
    assert ("penalty_receivable", D("-2.76")) in legs(other)
    assert ledger_account_balance("penalty_receivable") == 0
    assert_books_agree()
