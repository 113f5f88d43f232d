"""The nightly close (日终): the steps that end one business date and open the next.

Each step runs in its own durable transaction and is recorded under (business date, step), so a
rerun, or a task delivered twice, finds it done and changes nothing."""

import time
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Min, OuterRef, Subquery

from ..models import (
    BusinessDate,
    CloseStep,
    CreditProduct,
    Instalment,
    InstalmentStatus,
    JournalEntry,
    LedgerAccount,
    Loan,
    LoanStatus,
    Posting,
)
from ..selectors import business_date_today
from . import ledger

CHUNK = 2000


def _accrue_interest_due(day):
    """Book the interest of instalments falling due as receivable (Dr receivable, Cr income)."""
    ids = list(Instalment.objects.filter(due_date__lte=day, interest_accrued=False)
               .values_list("pk", flat=True).order_by("pk"))
    accounts = {a.code: a for a in LedgerAccount.objects.filter(
        code__in=[ledger.INTEREST_RECEIVABLE, ledger.INTEREST_INCOME])}
    booked = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        # Locked so that a repayment cannot pay this interest between our read and our booking.
        rows = list(Instalment.objects.select_for_update().filter(pk__in=chunk)
                    .order_by("pk").values_list("pk", "loan_id", "interest_due", "interest_paid"))
        per_loan = defaultdict(lambda: 0)
        for _pk, loan_id, due, paid in rows:
            per_loan[loan_id] += due - paid
        per_loan = {loan_id: amount for loan_id, amount in per_loan.items() if amount}
        entries = JournalEntry.objects.bulk_create(
            JournalEntry(kind="interest_accrual", business_date=day, loan_id=loan_id,
                         memo="Interest fallen due")
            for loan_id in per_loan)
        postings = []
        for entry in entries:
            amount = per_loan[entry.loan_id]
            postings += [
                Posting(entry=entry, account=accounts[ledger.INTEREST_RECEIVABLE],
                        loan_id=entry.loan_id, amount=amount),
                Posting(entry=entry, account=accounts[ledger.INTEREST_INCOME],
                        loan_id=entry.loan_id, amount=-amount),
            ]
        Posting.objects.bulk_create(postings)
        Instalment.objects.filter(pk__in=[r[0] for r in rows]).update(interest_accrued=True)
        booked += len(rows)
    return booked


def _mark_overdue(day):
    """Unpaid instalments past due date + the product's grace days become overdue (逾期)."""
    marked = 0
    for product_id, grace in CreditProduct.objects.values_list("pk", "grace_days"):
        marked += Instalment.objects.filter(
            status=InstalmentStatus.PENDING, loan__line__product_id=product_id,
            due_date__lte=day - timedelta(days=grace),
        ).update(status=InstalmentStatus.OVERDUE)
    return marked


def _set_days_past_due(day):
    """Days past due as of the next business date, from each loan's oldest overdue instalment."""
    next_day = day + timedelta(days=1)
    oldest = (Instalment.objects.filter(loan=OuterRef("pk"), status=InstalmentStatus.OVERDUE)
              .values("loan").annotate(oldest=Min("due_date")).values("oldest"))
    loans = Loan.objects.filter(status=LoanStatus.ACTIVE)
    overdue = loans.filter(instalments__status=InstalmentStatus.OVERDUE).distinct()
    dates = dict(overdue.annotate(oldest=Subquery(oldest)).values_list("pk", "oldest"))
    by_days = defaultdict(list)
    for loan_id, oldest_due in dates.items():
        by_days[(next_day - oldest_due).days].append(loan_id)
    for days, ids in by_days.items():
        Loan.objects.filter(pk__in=ids).update(days_past_due=days)
    cleared = loans.exclude(pk__in=list(dates)).exclude(days_past_due=0).update(days_past_due=0)
    return len(dates) + cleared


def _advance(day):
    moved = BusinessDate.objects.filter(current=day).update(current=day + timedelta(days=1))
    if moved != 1:
        raise RuntimeError(f"The business date is no longer {day}; another close moved it.")
    return 1


STEPS = [
    ("accrue_interest_due", _accrue_interest_due),
    ("mark_overdue", _mark_overdue),
    ("set_days_past_due", _set_days_past_due),
    ("advance_business_date", _advance),
]


def _run_step(day, name, work):
    with transaction.atomic(durable=True):
        # Claiming the step first makes a concurrent close wait here, then find it done.
        step, created = CloseStep.objects.get_or_create(business_date=day, step=name)
        if not created:
            return None
        started = time.perf_counter()
        step.rows = work(day)
        step.seconds = time.perf_counter() - started
        step.save(update_fields=["rows", "seconds"])
    return step


def business_day_close(*, business_date=None):
    """Run every step of the close for the current business date, then advance it.

    Given a date that is already closed, it does nothing: a redelivered task is harmless."""
    current = business_date_today()
    day = business_date or current
    if day < current:
        return []
    if day > current:
        raise ValueError(f"Cannot close {day}: the business date is {current}.")
    return [step for name, work in STEPS if (step := _run_step(day, name, work)) is not None]


def business_days_advance(*, days: int):
    """Close `days` business dates in a row: a month of life in a minute."""
    if days < 1:
        raise ValueError("days must be at least 1")
    return [business_day_close() for _ in range(days)]


def business_dates_catch_up(*, calendar_date):
    """Close every business date before `calendar_date`: what the scheduled close does.

    The scheduler is the one place where the wall clock meets the business date."""
    closed = []
    while business_date_today() < calendar_date:
        closed.append(business_day_close())
    return closed


def business_date_ensure():
    """The business date row, started on today's calendar date if it does not exist yet."""
    from django.utils import timezone

    BusinessDate.objects.get_or_create(singleton=True,
                                       defaults={"current": timezone.localdate()})


def business_date_reset(*, day):
    """Start the calendar on another day: only on a book with nothing in it yet (demo, tests)."""
    if JournalEntry.objects.exists():
        raise ValueError("The business date can only be reset before any money has moved.")
    business_date_ensure()
    BusinessDate.objects.update(current=day)
