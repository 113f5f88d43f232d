"""What PostgreSQL itself refuses, whatever the Python code does."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, transaction

from lending.models import CreditLine, JournalEntry, LedgerAccount, LimitChange, Posting, Repayment
from lending.services import loan_originate, loan_repay

D = Decimal
# pgtrigger's refusals arrive as ProgrammingError, the balance check as IntegrityError.
REFUSED = (IntegrityError, InternalError, ProgrammingError)


@pytest.fixture
def loan(line):
    return loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")


def test_an_unbalanced_entry_is_refused_at_commit(transactional_db, loan):
    cash = LedgerAccount.objects.get(code="cash")
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            entry = JournalEntry.objects.create(kind="manual", business_date="2026-01-01")
            Posting.objects.create(entry=entry, account=cash, amount=D("10.00"))
    assert not JournalEntry.objects.filter(kind="manual").exists()


def test_a_balanced_hand_entry_is_accepted(transactional_db, loan):
    cash = LedgerAccount.objects.get(code="cash")
    income = LedgerAccount.objects.get(code="fee_income")
    with transaction.atomic():
        entry = JournalEntry.objects.create(kind="manual", business_date="2026-01-01")
        Posting.objects.create(entry=entry, account=cash, amount=D("10.00"))
        Posting.objects.create(entry=entry, account=income, amount=D("-10.00"))
    assert Posting.objects.filter(entry=entry).count() == 2


@pytest.mark.parametrize("model", [Posting, JournalEntry])
def test_ledger_rows_cannot_be_updated_or_deleted(loan, model):
    row = model.objects.first()
    with pytest.raises(REFUSED), transaction.atomic():
        if model is Posting:
            model.objects.filter(pk=row.pk).update(amount=D("1.00"))
        else:
            model.objects.filter(pk=row.pk).update(memo="rewritten")
    with pytest.raises(REFUSED), transaction.atomic():
        model.objects.filter(pk=row.pk).delete()


def test_repayments_and_limit_changes_are_append_only(loan, line):
    payment = loan_repay(loan_id=loan.pk, amount="100", idempotency_key="p", scope="test")
    with pytest.raises(REFUSED), transaction.atomic():
        Repayment.objects.filter(pk=payment.pk).update(amount=D("1.00"))
    change = LimitChange.objects.create(line=line, old_limit=1, new_limit=0, reason="x",
                                        business_date="2026-01-01")
    with pytest.raises(REFUSED), transaction.atomic():
        LimitChange.objects.filter(pk=change.pk).update(reason="nothing happened")


def test_the_database_refuses_to_overdraw_a_line(loan, line):
    with pytest.raises(REFUSED), transaction.atomic():
        CreditLine.objects.filter(pk=line.pk).update(outstanding_principal=D("50000.01"))
    # Lowering the limit below what is outstanding is allowed: available becomes zero.
    CreditLine.objects.filter(pk=line.pk).update(credit_limit=D("5000.00"))
    line.refresh_from_db()
    assert line.available == 0
