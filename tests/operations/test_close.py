from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from core.calendar import business_date_today
from core.close import close_steps
from lending.models import InstalmentStatus, JournalEntry, Loan
from lending.selectors import ledger_account_balance
from lending.services import loan_originate, loan_repay
from operations.models import CloseChunk, CloseStatus, CloseStep
from operations.nightly_close import (
    business_dates_catch_up,
    business_day_close,
    business_days_advance,
)
from tests.factories import set_business_date

D = Decimal


@pytest.fixture
def loan(line):
    set_business_date(date(2026, 1, 31))
    return loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")


def test_instalment_becomes_overdue_after_due_date_and_grace_days(loan):
    # Due 2026-02-28, three grace days: still current through Mar 3, overdue from Mar 4.
    set_business_date(date(2026, 3, 2))
    business_days_advance(days=2)  # closes Mar 2 and Mar 3
    first = loan.instalments.get(seq=1)
    assert business_date_today() == date(2026, 3, 4)
    assert first.status == InstalmentStatus.OVERDUE
    loan.refresh_from_db()
    assert loan.days_past_due == 4  # Feb 28 -> Mar 4


def test_not_overdue_within_grace(loan):
    set_business_date(date(2026, 2, 28))
    business_days_advance(days=3)  # closes Feb 28, Mar 1, Mar 2
    assert loan.instalments.get(seq=1).status == InstalmentStatus.PENDING
    loan.refresh_from_db()
    assert loan.days_past_due == 0


def test_days_past_due_grows_each_night_and_clears_on_payment(loan):
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=5)
    loan.refresh_from_db()
    assert loan.days_past_due == 8  # business date Mar 8
    assert loan.overdue_since == date(2026, 2, 28)  # what the index of late loans holds
    # The instalment (916.80) and eight days of penalty interest, Mar 1 to Mar 8, at
    # round_half_up(916.80 x 0.0005) = 0.46 a day: 3.68.
    loan_repay(loan_id=loan.pk, amount="920.48", idempotency_key="p", scope="test")
    loan.refresh_from_db()
    assert (loan.days_past_due, loan.overdue_since) == (0, None)
    business_days_advance(days=1)
    loan.refresh_from_db()
    assert (loan.days_past_due, loan.overdue_since) == (0, None)


def test_a_loan_is_never_past_due_without_the_date_it_counts_from(loan):
    for days, since in ((3, None), (0, date(2026, 2, 28))):
        with pytest.raises(IntegrityError), transaction.atomic():
            Loan.objects.filter(pk=loan.pk).update(days_past_due=days, overdue_since=since)


def test_interest_falling_due_is_booked_as_receivable_then_paid_from_it(loan):
    set_business_date(date(2026, 2, 28))
    business_days_advance(days=1)
    assert ledger_account_balance("interest_receivable") == D("140.00")
    assert JournalEntry.objects.filter(kind="interest_accrual").count() == 1
    loan_repay(loan_id=loan.pk, amount="916.80", idempotency_key="p", scope="test")
    assert ledger_account_balance("interest_receivable") == 0
    # 140 recognised at the due date, of which the bank's 70 % (98.00) is passed on.
    assert ledger_account_balance("interest_income") == D("-42.00")


def test_close_of_a_closed_date_changes_nothing(loan):
    set_business_date(date(2026, 3, 10))
    business_day_close()
    steps = CloseStep.objects.count()
    entries = JournalEntry.objects.count()
    run = business_day_close(business_date=date(2026, 3, 10))
    assert run.status == CloseStatus.DONE
    assert CloseStep.objects.count() == steps
    assert JournalEntry.objects.count() == entries
    assert business_date_today() == date(2026, 3, 11)
    with pytest.raises(ValueError):
        business_day_close(business_date=date(2026, 3, 20))


def test_every_step_is_recorded_with_counts_chunks_and_seconds(loan):
    set_business_date(date(2026, 3, 10))
    run = business_day_close()
    steps = {s.step: s for s in CloseStep.objects.filter(business_date=date(2026, 3, 10))}
    assert {spec.name for spec in close_steps()} | {"advance_business_date"} == set(steps)
    assert steps["mark_overdue"].rows == 1
    assert steps["mark_overdue"].chunks_total == steps["mark_overdue"].chunks_done == 1
    assert all(step.status == CloseStatus.DONE and step.run == run for step in steps.values())
    assert all(chunk.seconds > 0 for chunk in CloseChunk.objects.filter(step__run=run))
    assert run.status == CloseStatus.DONE and run.finished_at and run.current_step == ""


def test_advance_command(loan, capsys):
    set_business_date(date(2026, 2, 1))
    call_command("advance_business_date", "--days", "30")
    assert business_date_today() == date(2026, 3, 3)
    assert "2026-02-01 to 2026-03-03" in capsys.readouterr().out


def test_the_scheduled_close_catches_up_to_the_calendar_and_no_further(loan):
    set_business_date(date(2026, 3, 1))
    assert len(business_dates_catch_up(calendar_date=date(2026, 3, 4))) == 3
    assert business_date_today() == date(2026, 3, 4)
    assert business_dates_catch_up(calendar_date=date(2026, 3, 4)) == []
