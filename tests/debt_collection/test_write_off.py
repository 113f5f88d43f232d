"""Write-off (核销) at 180 days past due and recoveries (lending/services/write_off.py).

The loan of tests/lending/test_repayment.py: 10,000 over 12 equal monthly instalments at 0.05 %
a day from 2026-01-31, 70 % funded by bank-a (7,000.00), 30 % by the platform (3,000.00).

* 2026-02-28: instalment 1 paid on its due date, 916.80 = 776.80 principal + 140.00 interest.
  Outstanding 9,223.20; the bank keeps round(7,000 x 9,223.20 / 10,000) = 6,456.24, the platform
  2,766.96; the bank was passed 543.76 principal + 98.00 interest = 641.76 (partner payable).
* Instalment 2 (773.84 principal + 142.96 interest = 916.80, due 2026-03-31) is never paid.
  Its interest falls due in the close of Mar 31 (interest receivable 142.96); it turns overdue in
  the close of Apr 3 (3 grace days), which charges Apr 1-4: 4 x round(916.80 x 0.0005 = 0.4584)
  = 4 x 0.46 = 1.84 penalty receivable.
* Days past due: Mar 31 -> Sep 27 is 30 + 31 + 30 + 31 + 31 + 27 = 180 days, so the close of
  Sep 26 (which reckons on the next business date, Sep 27) sees 180 and writes the loan off;
  the close of Sep 25 sees 179 and does not.

Only those steps are run, by hand, so that the figures stay few; the last test runs the real
close on the write-off night."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.audit import actor_system, actor_user, audit_chain_verify, audit_trail_of
from core.close import close_step_named
from lending.errors import Overpayment, TransitionRefused
from lending.models import CreditLine, JournalEntry, LoanFunding, LoanStatus, Posting
from lending.models.loans import Recovery, WriteOff, WriteOffShare
from lending.selectors import ledger_account_balance, ledger_principal_of, unbalanced_entry_ids
from lending.services import (
    interest_due_accrue,
    loan_originate,
    loan_repay,
    loan_write_off,
    loans_days_past_due_set,
    loans_penalty_accrue,
    loans_write_off,
)
from lending.services.delinquency import instalments_mark_overdue
from lending.services.ledger import legs_merge
from lending.services.write_off import (
    loans_due_for_write_off_ids,
    recovery_bank_parts,
    recovery_legs,
)
from tests.factories import CreditLineFactory, UserFactory, set_business_date

D = Decimal
ZERO = D("0.00")
BANK = "bank-a"
WRITE_OFF_NIGHT = date(2026, 9, 26)


def round_half_up(value):
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def pay(loan, amount, key=None):
    return loan_repay(loan_id=loan.pk, amount=amount, idempotency_key=key or uuid4().hex,
                      scope="test")


def loan_legs(loan, code):
    """The loan's balance on one account, from its postings."""
    return sum(Posting.objects.filter(loan=loan, account__code=code)
               .values_list("amount", flat=True), ZERO)


def entry_legs(entry):
    return dict(entry.postings.values_list("account__code", "amount"))


def assert_ledger_balanced():
    assert unbalanced_entry_ids() == []
    assert sum(Posting.objects.values_list("amount", flat=True), ZERO) == 0


@pytest.fixture
def loan(line, bank):
    set_business_date(date(2026, 1, 31))
    loan = loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")
    set_business_date(date(2026, 2, 28))
    pay(loan, "916.80")
    interest_due_accrue(day=date(2026, 3, 31))  # instalment 2's 142.96 falls due
    instalments_mark_overdue(day=date(2026, 4, 3))  # instalment 2 overdue on Apr 4
    assert loans_penalty_accrue(day=date(2026, 4, 3)) == 1  # Apr 1-4: 1.84
    loans_days_past_due_set(day=date(2026, 9, 25))
    loan.refresh_from_db()
    assert loan.days_past_due == 179
    return loan


@pytest.fixture
def written_off(loan):
    loans_days_past_due_set(day=WRITE_OFF_NIGHT)
    assert loans_write_off(day=WRITE_OFF_NIGHT) == 1
    set_business_date(date(2026, 9, 27))
    loan.refresh_from_db()
    return loan


def test_not_before_180_days_past_due(loan):
    assert loans_due_for_write_off_ids(date(2026, 9, 25)) == []
    assert loans_write_off(day=date(2026, 9, 25)) == 0
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE and not WriteOff.objects.exists()


def test_write_off_at_180_days_past_due_with_each_funders_loss(loan, bank):
    line_before = CreditLine.objects.get(pk=loan.line_id)
    assert loan_legs(loan, "interest_receivable") == D("142.96")
    assert loan_legs(loan, "penalty_receivable") == D("1.84")
    loans_days_past_due_set(day=WRITE_OFF_NIGHT)
    assert loans_due_for_write_off_ids(WRITE_OFF_NIGHT) == [loan.pk]

    assert loans_write_off(day=WRITE_OFF_NIGHT) == 1

    loan.refresh_from_db()
    assert (loan.status, loan.written_off_on) == (LoanStatus.WRITTEN_OFF, WRITE_OFF_NIGHT)
    write_off = WriteOff.objects.get(loan=loan)
    assert (write_off.business_date, write_off.principal, write_off.interest_reversed,
            write_off.penalty_reversed, write_off.days_past_due, write_off.officer) == (
        WRITE_OFF_NIGHT, D("9223.20"), D("142.96"), D("1.84"), 180, None)
    # The bank loses the 6,456.24 it still had in the loan, the platform its 2,766.96.
    assert sorted((s.partner_bank_id or 0, s.principal) for s in write_off.shares.all()) == [
        (0, D("2766.96")), (bank.pk, D("6456.24"))]

    entry = JournalEntry.objects.get(kind="write_off")
    assert (entry.loan_id, entry.business_date) == (loan.pk, WRITE_OFF_NIGHT)
    assert entry_legs(entry) == {
        f"partner_funding:{BANK}": D("6456.24"), f"principal_receivable:{BANK}": D("-6456.24"),
        "credit_loss": D("2766.96"), "principal_receivable:platform": D("-2766.96"),
        "interest_income": D("142.96"), "interest_receivable": D("-142.96"),
        "penalty_income": D("1.84"), "penalty_receivable": D("-1.84"),
    }
    # Nothing of the loan is left on the books: principal, interest and penalty receivable are
    # zero, and so is the bank's funding stake (-7,000 + 543.76 repaid + 6,456.24 lost).
    for code in ("principal_receivable:platform", f"principal_receivable:{BANK}",
                 "interest_receivable", "penalty_receivable", f"partner_funding:{BANK}"):
        assert loan_legs(loan, code) == 0, code
    assert ledger_principal_of(loan) == 0
    assert ledger_account_balance("credit_loss") == D("2766.96")
    # Interest income keeps what was collected and is the platform's: 140.00 - 98.00 = 42.00;
    # the accrued 142.96 and the penalty 1.84 are reversed.
    assert ledger_account_balance("interest_income") == D("-42.00")
    assert ledger_account_balance("penalty_income") == 0
    # What the bank was passed on instalment 1 is still owed to it.
    assert ledger_account_balance(f"partner_payable:{BANK}") == D("-641.76")
    assert_ledger_balanced()

    # The borrower still owes: the loan, its fundings and the line keep the principal, so the
    # write-off frees no credit.
    assert loan.outstanding_principal == D("9223.20")
    assert sorted(LoanFunding.objects.filter(loan=loan)
                  .values_list("outstanding_principal", flat=True)) == [D("2766.96"),
                                                                         D("6456.24")]
    line = CreditLine.objects.get(pk=loan.line_id)
    assert line.outstanding_principal == line_before.outstanding_principal == D("9223.20")

    event = audit_trail_of("loan", loan.pk).last()
    assert (event.action, event.actor_kind, event.actor_id) == ("loan.write_off", "system",
                                                                "write_off")
    assert event.payload["principal"] == "9223.20"
    assert event.payload["shares"] == [{"funder": BANK, "principal": "6456.24"},
                                       {"funder": "platform", "principal": "2766.96"}]
    assert audit_chain_verify(subject_kind="loan", subject_id=loan.pk) is None


def test_a_second_run_changes_nothing(written_off):
    counts = (JournalEntry.objects.count(), Posting.objects.count(), WriteOff.objects.count(),
              WriteOffShare.objects.count(), len(audit_trail_of("loan", written_off.pk)))
    assert loans_due_for_write_off_ids(WRITE_OFF_NIGHT) == []
    assert loans_write_off(day=WRITE_OFF_NIGHT) == 0
    assert loans_write_off(day=date(2026, 9, 27)) == 0
    # The close step, as the runner calls it for a chunk.
    assert close_step_named("write_off").run(WRITE_OFF_NIGHT, written_off.pk,
                                             written_off.pk) == 0
    assert counts == (JournalEntry.objects.count(), Posting.objects.count(),
                      WriteOff.objects.count(), WriteOffShare.objects.count(),
                      len(audit_trail_of("loan", written_off.pk)))


def test_the_close_step_writes_off_within_its_chunk_only(loan):
    loans_days_past_due_set(day=WRITE_OFF_NIGHT)
    step = close_step_named("write_off")
    assert step.order == 600 and step.ids(WRITE_OFF_NIGHT) == [loan.pk]
    assert step.run(WRITE_OFF_NIGHT, loan.pk + 1, loan.pk + 10) == 0
    assert step.run(WRITE_OFF_NIGHT, loan.pk, loan.pk) == 1
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF


def test_recoveries_are_shared_as_the_losses_were_rounded_cumulatively(written_off):
    loan = written_off
    # Owed: 9,223.20 principal + 142.96 interest + 1.84 penalty = 9,368.00. The bank lost
    # 6,456.24 of 9,223.20 = exactly 70 %.
    # 100.01: the bank's to date round(70.007) = 70.01; it gets 70.01, the platform 30.00.
    # 100.01: to date round(200.02 x 0.7 = 140.014) = 140.01; it gets 70.00, the platform 30.01.
    # 0.05:   to date round(200.07 x 0.7 = 140.049) = 140.05; it gets 0.04, the platform 0.01.
    # Rounded one by one the bank would have had 70.01 + 70.01 + 0.04 (0.035) = 140.06.
    expected = [(D("100.01"), D("70.01"), D("30.00")), (D("100.01"), D("70.00"), D("30.01")),
                (D("0.05"), D("0.04"), D("0.01"))]
    for amount, bank_part, platform_part in expected:
        recovery = pay(loan, str(amount))
        assert isinstance(recovery, Recovery)
        assert (recovery.amount, recovery.received_on) == (amount, date(2026, 9, 27))
        entry = JournalEntry.objects.filter(kind="recovery").latest("pk")
        assert entry_legs(entry) == {"cash": amount, f"partner_payable:{BANK}": -bank_part,
                                     "recovery_income": -platform_part}
    # The bank's parts sum to round(0.7 x 200.07) = 140.05; the platform keeps 60.02.
    assert ledger_account_balance(f"partner_payable:{BANK}") == D("-641.76") - D("140.05")
    assert ledger_account_balance("recovery_income") == D("-60.02")
    event = audit_trail_of("loan", loan.pk).last()
    assert (event.action, event.payload["recovered"], event.payload["owed"]) == (
        "loan.recover", "200.07", "9167.93")

    # What is still owed, 9,368.00 - 200.07 = 9,167.93, and not a cent more.
    with pytest.raises(Overpayment, match="9167.93"):
        pay(loan, "9167.94")
    last = pay(loan, "9167.93", key="last")
    assert pay(loan, "9167.93", key="last") == last  # a replay returns the first recovery
    # In all the bank gets round(9,368.00 x 0.7) = 6,557.60, so this one 6,557.60 - 140.05.
    assert entry_legs(JournalEntry.objects.filter(kind="recovery").latest("pk")) == {
        "cash": D("9167.93"), f"partner_payable:{BANK}": D("-6417.55"),
        "recovery_income": D("-2750.38")}
    assert ledger_account_balance("recovery_income") == D("-2810.40")
    with pytest.raises(Overpayment, match="Nothing is owed"):
        pay(loan, "0.01")
    assert Recovery.objects.filter(loan=loan).count() == 4
    assert_ledger_balanced()
    # Recoveries are off the books' principal: the loan's own figures do not move.
    loan.refresh_from_db()
    assert (loan.status, loan.outstanding_principal) == (LoanStatus.WRITTEN_OFF, D("9223.20"))
    assert audit_chain_verify(subject_kind="loan", subject_id=loan.pk) is None


def test_an_officer_writes_a_loan_off_before_the_threshold(loan, bank):
    officer = UserFactory(is_staff=True)
    with pytest.raises(Exception, match="reason"):
        loan_write_off(loan_id=loan.pk, reason=" ", actor=actor_user(officer))
    write_off = loan_write_off(loan_id=loan.pk, reason="Customer deceased",
                               actor=actor_user(officer))
    assert (write_off.officer, write_off.days_past_due, write_off.principal,
            write_off.reason) == (officer, 179, D("9223.20"), "Customer deceased")
    assert loan_write_off(loan_id=loan.pk, reason="again", actor=actor_user(officer)) == write_off
    event = audit_trail_of("loan", loan.pk).last()
    assert (event.action, event.actor_kind, event.actor_id) == ("loan.write_off", "user",
                                                                str(officer.pk))
    assert_ledger_balanced()


def test_a_paid_off_loan_cannot_be_written_off(line, bank):
    set_business_date(date(2026, 1, 31))
    loan = loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="paid", scope="test")
    pay(loan, "10000.00")
    with pytest.raises(TransitionRefused):
        loan_write_off(loan_id=loan.pk, reason="no", actor=actor_system("tests"))


def test_only_loans_past_their_own_products_write_off_days(loan, bank):
    other = CreditLineFactory(product__code="short", product__write_off_days=90)
    set_business_date(date(2026, 1, 31))
    short = loan_originate(line_id=other.pk, principal="10000", term_months=12,
                           method="equal_instalment", idempotency_key="short", scope="test")
    instalments_mark_overdue(day=date(2026, 3, 3))
    loans_days_past_due_set(day=date(2026, 6, 1))  # Feb 28 -> Jun 2: 94 days; loan: 63
    assert loans_due_for_write_off_ids(date(2026, 6, 1)) == [short.pk]
    assert loans_write_off(day=date(2026, 6, 1)) == 1
    assert WriteOff.objects.get().loan_id == short.pk
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE


def test_the_nightly_close_writes_off_on_the_180th_day(loan):
    from operations.nightly_close import business_days_advance

    set_business_date(WRITE_OFF_NIGHT)
    business_days_advance(days=1)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF and loan.days_past_due == 180
    # Whatever the night's interest and penalty, the write-off leaves none receivable.
    for code in ("interest_receivable", "penalty_receivable", "principal_receivable:platform",
                 f"principal_receivable:{BANK}", f"partner_funding:{BANK}"):
        assert loan_legs(loan, code) == 0, code
    write_off = WriteOff.objects.get(loan=loan)
    assert write_off.interest_reversed > D("142.96") and write_off.penalty_reversed > D("1.84")
    assert_ledger_balanced()


@given(
    lost=st.integers(min_value=0, max_value=10**6),
    other=st.integers(min_value=1, max_value=10**6),
    amounts=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=30),
)
def test_any_sequence_of_recoveries_splits_without_creating_or_losing_a_cent(lost, other,
                                                                           amounts):
    """A bank that lost `lost` cents of `lost + other` written off: over any recoveries its
    parts sum to round(its proportion x recovered), each part and the platform's are never
    negative, and each recovery's legs balance."""
    lost, written_off = D(lost) / 100, D(lost + other) / 100
    recovered, bank_total, platform_total = ZERO, ZERO, ZERO
    for cents in amounts:
        amount = D(cents) / 100
        parts = recovery_bank_parts([(BANK, lost)], written_off, recovered, amount)
        platform = amount - parts[BANK]
        assert parts[BANK] >= 0 and platform >= 0
        assert sum(amount for _code, amount in legs_merge(
            "recovery", recovery_legs(amount, parts, platform))) == 0
        recovered += amount
        bank_total += parts[BANK]
        platform_total += platform
        assert bank_total == round_half_up(recovered * lost / written_off)
    assert bank_total + platform_total == recovered == D(sum(amounts)) / 100


def test_no_interest_falls_due_on_a_written_off_loan(written_off):
    """Instalments 3-12 of the written-off loan are never booked: the borrower still owes the
    contract, but nothing more is taken into income or receivable after the write-off."""
    interest_due_accrue(day=date(2026, 12, 31))
    assert loan_legs(written_off, "interest_receivable") == 0
    assert JournalEntry.objects.filter(loan=written_off, kind="interest_accrual",
                                       business_date__gt=WRITE_OFF_NIGHT).count() == 0
