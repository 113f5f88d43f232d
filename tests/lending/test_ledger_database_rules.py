"""What PostgreSQL itself refuses, whatever the Python code does."""

from decimal import Decimal

import pgtrigger
import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

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



# The balance rule (migration 0009): a statement-level trigger sums every entry a statement
# touched and records the ones it leaves open; one deferred constraint trigger re-checks those
# at commit (or at SET CONSTRAINTS ... IMMEDIATE).

def entry_new():
    return JournalEntry.objects.create(kind="manual", business_date="2026-01-01")


def legs(entry, *amounts):
    cash = LedgerAccount.objects.get(code="cash")
    income = LedgerAccount.objects.get(code="fee_income")
    return [Posting(entry=entry, account=cash if D(amount) > 0 else income, amount=D(amount))
            for amount in amounts]


@pytest.mark.parametrize("batch_size", [None, 1], ids=["one statement", "one per leg"])
def test_an_unbalanced_entry_is_refused_at_commit_however_its_legs_arrive(transactional_db,
                                                                          batch_size):
    with pytest.raises(IntegrityError, match=r"journal entry \d+ does not balance"):
        with transaction.atomic():
            entry = entry_new()
            Posting.objects.bulk_create(legs(entry, "10.00", "-9.99"), batch_size=batch_size)
            # Nothing is refused before commit: more legs may still come.
            assert Posting.objects.filter(entry=entry).count() == 2
    assert not JournalEntry.objects.filter(kind="manual").exists()


def test_a_balanced_entry_split_across_statements_is_accepted(transactional_db):
    with transaction.atomic():
        entry = entry_new()
        Posting.objects.bulk_create(legs(entry, "10.00", "5.00", "-15.00"), batch_size=1)
    assert Posting.objects.filter(entry=entry).count() == 3


def test_one_unbalanced_entry_among_ten_thousand_in_one_statement_is_refused(transactional_db):
    cash = LedgerAccount.objects.get(code="cash")
    income = LedgerAccount.objects.get(code="fee_income")
    with pytest.raises(IntegrityError) as refused:
        with transaction.atomic():
            entries = JournalEntry.objects.bulk_create(
                JournalEntry(kind="bulk", business_date="2026-01-01") for _ in range(10_001))
            ids = [entry.pk for entry in entries]
            bad = ids[5_000]
            with connection.cursor() as cursor:
                cursor.execute(
                    """INSERT INTO lending_posting (entry_id, account_id, amount)
                       SELECT e, a, CASE WHEN a = %(cash)s THEN 1.00
                                         WHEN e = %(bad)s THEN -0.99 ELSE -1.00 END
                       FROM unnest(%(ids)s::bigint[]) e
                       CROSS JOIN (VALUES (%(cash)s), (%(income)s)) v(a)""",
                    {"ids": ids, "bad": bad, "cash": cash.pk, "income": income.pk})
                assert cursor.rowcount == 20_002
    assert f"journal entry {bad} does not balance" in str(refused.value)
    assert not JournalEntry.objects.filter(kind="bulk").exists()


def test_set_constraints_immediate_checks_at_that_point(transactional_db):
    with transaction.atomic():
        balanced = entry_new()
        Posting.objects.bulk_create(legs(balanced, "10.00"))
        Posting.objects.bulk_create(legs(balanced, "-10.00"))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the close times its check so
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # Legs after the check are checked again at commit.
        late = entry_new()
        Posting.objects.bulk_create(legs(late, "3.00"))
        Posting.objects.bulk_create(legs(late, "-3.00"))
    assert Posting.objects.filter(entry__in=[balanced, late]).count() == 4

    with transaction.atomic():
        unbalanced = entry_new()
        Posting.objects.bulk_create(legs(unbalanced, "10.00"))
        with pytest.raises(IntegrityError, match=f"journal entry {unbalanced.pk} does not"):
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)
    assert not JournalEntry.objects.filter(pk=unbalanced.pk).exists()


def test_a_leg_rolled_back_to_a_savepoint_does_not_count(transactional_db):
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            entry = entry_new()
            Posting.objects.bulk_create(legs(entry, "10.00"))
            try:
                with transaction.atomic():
                    Posting.objects.bulk_create(legs(entry, "-10.00"))
                    raise RuntimeError("undo the credit leg")
            except RuntimeError:
                pass


def test_ignoring_the_append_only_trigger_does_not_unbalance_the_ledger(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pgtrigger.ignore')")
        # Set per connection (config/settings/base.py): pgtrigger's ignore check never raises.
        assert cursor.fetchone() == ("{}",)
    with transaction.atomic():
        entry = entry_new()
        Posting.objects.bulk_create(legs(entry, "10.00", "-10.00"))
    with pytest.raises(IntegrityError, match=f"journal entry {entry.pk} does not balance"):
        with pgtrigger.ignore("lending.Posting:posting_append_only"), transaction.atomic():
            Posting.objects.filter(entry=entry, amount__gt=0).update(amount=D("11.00"))
    assert sorted(Posting.objects.filter(entry=entry).values_list("amount", flat=True)) == [
        D("-10.00"), D("10.00")]


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
