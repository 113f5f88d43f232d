"""Interest falling due: booked as receivable by the nightly close (lending/close.py).

The close of business date D books, for every instalment due on or before D whose interest is
not booked yet, its unpaid interest as one entry per loan: Dr interest receivable, Cr interest
income, kind "interest_accrual", and marks the instalments `interest_accrued` in the same
transaction, so a rerun finds nothing left to book."""

from collections import defaultdict

from django.db import connection
from django.db.models import Min

from core.batch import field_in

from ..models import Instalment, LedgerAccount, Loan
from . import ledger

KIND = "interest_accrual"
MEMO = "Interest fallen due"

_ACCRUE_SQL = """
WITH due AS (
    UPDATE lending_instalment i SET interest_accrued = true
    WHERE i.interest_accrued = false AND i.due_date BETWEEN %(earliest)s AND %(day)s::date
      AND i.loan_id BETWEEN %(lo)s AND %(hi)s
    RETURNING i.loan_id, i.interest_due - i.interest_paid AS amount
),
per_loan AS (
    SELECT loan_id, SUM(amount) AS amount FROM due GROUP BY loan_id HAVING SUM(amount) <> 0
),
entries AS (
    INSERT INTO lending_journalentry (kind, business_date, loan_id, memo, created_at)
    SELECT %(kind)s, %(day)s::date, loan_id, %(memo)s, now() FROM per_loan ORDER BY loan_id
    RETURNING id, loan_id
),
postings AS (
    INSERT INTO lending_posting (entry_id, account_id, loan_id, amount)
    SELECT e.id, a.account_id, e.loan_id, a.sign * p.amount
    FROM entries e
    JOIN per_loan p ON p.loan_id = e.loan_id
    CROSS JOIN (VALUES (%(receivable)s::bigint, 1), (%(income)s::bigint, -1))
         AS a(account_id, sign)
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM due), (SELECT COUNT(*) FROM entries),
       (SELECT COUNT(*) FROM postings)
"""


def _falling_due(day):
    """Instalments due by `day` whose interest is not booked yet. The earliest such due date,
    read from the partial index, bounds the range from below too: every earlier night booked
    its own, so the range is a day or two, and the planner sees that rather than guessing from
    the whole table's due dates (which made it scan twelve million rows per chunk)."""
    unaccrued = Instalment.objects.filter(interest_accrued=False)
    earliest = unaccrued.aggregate(earliest=Min("due_date"))["earliest"]
    if earliest is None or earliest > day:
        return unaccrued.none(), None
    return unaccrued.filter(due_date__gte=earliest, due_date__lte=day), earliest


def loans_with_interest_falling_due(day) -> list[int]:
    """Ids of loans with instalments due by `day` whose interest is not booked yet: the
    accrual step's work, found through a partial index (a slice of the book, not a scan)."""
    due, _earliest = _falling_due(day)
    return list(due.values_list("loan_id", flat=True).distinct().order_by("loan_id"))


def interest_due_accrue(*, day, loan_id_from=None, loan_id_to=None) -> int:
    """Book the interest of instalments falling due by `day` as receivable, for loans with
    ids from `loan_id_from` to `loan_id_to` (both included; all when not given), in the caller's
    transaction. Returns how many instalments it booked."""
    due, earliest = _falling_due(day)
    if loan_id_from is not None:
        due = due.filter(loan_id__gte=loan_id_from)
    if loan_id_to is not None:
        due = due.filter(loan_id__lte=loan_id_to)
    # The loans found from their instalments (the partial index), not the other way round: a
    # chunk's id range spans a hundred thousand loans of which a few thousand fall due.
    loans = Loan.objects.filter(field_in("pk", due.values_list("loan_id", flat=True).distinct()))
    # Loans first, as every repayment locks them: a payment in flight finishes before the
    # interest is read, and none pays this interest between our read and our booking.
    locked = list(loans.select_for_update().order_by("pk").values_list("pk", flat=True))
    if not locked:
        return 0
    if connection.vendor != "postgresql":
        return _accrue_in_python(day, locked)
    accounts = dict(LedgerAccount.objects.filter(
        code__in=[ledger.INTEREST_RECEIVABLE, ledger.INTEREST_INCOME]).values_list("code", "pk"))
    with connection.cursor() as cursor:
        cursor.execute(_ACCRUE_SQL, {
            "day": day, "earliest": earliest, "lo": locked[0], "hi": locked[-1], "kind": KIND,
            "memo": MEMO,
            "receivable": accounts[ledger.INTEREST_RECEIVABLE],
            "income": accounts[ledger.INTEREST_INCOME],
        })
        booked, entries, postings = cursor.fetchone()
    if postings != 2 * entries:
        raise RuntimeError(f"interest accrual of {day}: {entries} entries, {postings} postings")
    return booked


def _accrue_in_python(day, loan_ids):
    """The same booking for the embedded demo database (SQLite), which has no data-modifying
    CTEs."""
    rows = list(Instalment.objects.filter(loan_id__in=loan_ids, interest_accrued=False,
                                          due_date__lte=day)
                .values_list("pk", "loan_id", "interest_due", "interest_paid"))
    per_loan = defaultdict(lambda: 0)
    for _pk, loan_id, due, paid in rows:
        per_loan[loan_id] += due - paid
    journal = ledger.JournalBatch(day)
    for loan_id, amount in sorted(per_loan.items()):
        if amount:
            journal.add(kind=KIND, loan_id=loan_id, memo=MEMO,
                        legs=[(ledger.INTEREST_RECEIVABLE, amount),
                              (ledger.INTEREST_INCOME, -amount)])
    journal.post()
    Instalment.objects.filter(pk__in=[row[0] for row in rows]).update(interest_accrued=True)
    return len(rows)
