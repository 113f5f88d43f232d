"""Interest falling due: booked as receivable by the nightly close (lending/close.py)."""

from collections import defaultdict

from ..models import Instalment, JournalEntry, LedgerAccount, Posting
from . import ledger

CHUNK = 2000


def interest_due_accrue(*, day) -> int:
    """Book the interest of instalments falling due by `day` as receivable (Dr receivable,
    Cr income), in the caller's transaction. Returns how many instalments it booked."""
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
