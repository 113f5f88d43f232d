"""Penalty interest (罚息) on overdue instalments, accrued by the nightly close
(debt_collection/close/overdue.py, step `accrue_penalty`, after `mark_overdue`).

The rule, for the close of business date D (statuses as `instalments_mark_overdue` left them that
night, i.e. as of the next business date D+1):

* base: the unpaid principal and interest of the loan's overdue instalments. Penalty and fees are
  never in the base, so penalty does not compound.
* days: penalty runs from the day after an instalment's due date and covers every day once. The
  close of D charges the day D+1, the business date on which the instalment is overdue (the same
  date `mark_overdue` and days past due are reckoned on). On the night an instalment turns overdue
  (its due date is `latest_due_date_overdue_on(D+1, grace)` = D - grace) the grace days are charged
  too: due 2026-02-28 with 3 grace days turns overdue in the close of 2026-03-03 and that night is
  charged Mar 1, 2, 3 and 4; every later night one day (Mar 5 in the close of Mar 4, ...). After
  the close of D an instalment has been charged exactly its days past due on D+1. A payment on
  D+1 lowers the base from the next day charged, D+2.
* amount per loan and night: round_half_up(base of all overdue instalments x rate, 0.01) for D+1,
  plus grace_days x round_half_up(base of the instalments turning overdue that night x rate,
  0.01) for their grace days (each day's penalty rounded on its own, as if charged nightly).
* the night's penalty is added to the loan's oldest overdue instalment's `penalty_due` (the one a
  payment reaches first; within it penalty is paid first), and booked in one entry per chunk of
  loans, kind "penalty_accrual": Dr penalty receivable once per loan (the posting carries the
  loan), Cr penalty income once for the chunk's total. A repayment then pays it from the
  loan's receivable (`repayment_legs`). One entry per loan would triple the rows the close's
  largest write makes, for an income leg nothing reads per loan.

Idempotent per (loan, D): the charged instalment's `penalty_charged_through` becomes D+1 in the
same statement, and a loan with an overdue instalment already charged through D+1 is skipped.
The chunk is one transaction, so a rerun after a crash finds either all of it or none.

Not handled: if a product's grace days are lowered while an instalment is inside its grace
period, that instalment's first night is missed and it is charged from then on one day a night
(never twice); instalments already overdue when this step was introduced are charged from its
first night on."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from core.batch import BATCH, rows_update
from core.money import round_money

from ..models import (
    Instalment,
    InstalmentStatus,
    JournalEntry,
    LedgerAccount,
    Loan,
    LoanStatus,
    Posting,
)
from ..rules.delinquency import latest_due_date_overdue_on
from . import ledger

KIND = "penalty_accrual"
MEMO = "Penalty interest"
ZERO = Decimal("0.00")

_ACCRUE_SQL = """
WITH overdue AS (
    SELECT i.id, i.loan_id, i.seq, i.penalty_charged_through, p.penalty_daily_rate AS rate,
           i.principal_due - i.principal_paid + i.interest_due - i.interest_paid AS base,
           CASE WHEN i.due_date = %(next_day)s::date - (p.grace_days + 1)
                THEN p.grace_days ELSE 0 END AS late_days
    FROM lending_instalment i
    JOIN lending_loan l ON l.id = i.loan_id
    JOIN lending_creditline c ON c.id = l.line_id
    JOIN lending_creditproduct p ON p.id = c.product_id
    -- Bounded on both sides of the join: the chunk's overdue instalments are one range of
    -- their partial index and its loans one range of the primary key, whichever the planner
    -- starts from (with the bounds on one side only it reads the other table whole).
    WHERE i.status = %(overdue)s AND l.status = %(active)s
      AND (%(lo)s::bigint IS NULL OR (i.loan_id >= %(lo)s::bigint AND l.id >= %(lo)s::bigint))
      AND (%(hi)s::bigint IS NULL OR (i.loan_id <= %(hi)s::bigint AND l.id <= %(hi)s::bigint))
),
per_loan AS (
    SELECT loan_id,
           (array_agg(id ORDER BY seq))[1] AS oldest_id,
           ROUND(SUM(base) * MAX(rate), 2)
             + COALESCE(MAX(late_days)
                        * ROUND(SUM(base) FILTER (WHERE late_days > 0) * MAX(rate), 2), 0)
             AS amount
    FROM overdue
    GROUP BY loan_id
    HAVING NOT COALESCE(bool_or(penalty_charged_through >= %(next_day)s::date), false)
),
charged AS (
    UPDATE lending_instalment i
    SET penalty_due = i.penalty_due + p.amount, penalty_charged_through = %(next_day)s::date
    FROM per_loan p
    WHERE i.id = p.oldest_id AND p.amount > 0
    RETURNING p.loan_id, p.amount
),
entry AS (
    INSERT INTO lending_journalentry (kind, business_date, loan_id, memo, created_at)
    SELECT %(kind)s, %(day)s::date, NULL, %(memo)s, now()
    WHERE EXISTS (SELECT 1 FROM charged)
    RETURNING id
),
postings AS (
    INSERT INTO lending_posting (entry_id, account_id, loan_id, amount)
    SELECT e.id, %(receivable)s::bigint, c.loan_id, c.amount FROM entry e CROSS JOIN charged c
    UNION ALL
    SELECT e.id, %(income)s::bigint, NULL, -SUM(c.amount) FROM entry e CROSS JOIN charged c
    GROUP BY e.id
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM charged), (SELECT COUNT(*) FROM postings)
"""


def loans_penalty_accrue(*, day, loan_id_from=None, loan_id_to=None) -> int:
    """Charge the night's penalty interest on every active loan with overdue instalments (ids
    from `loan_id_from` to `loan_id_to`, both included, when given), in the caller's
    transaction. Returns how many loans were charged; a loan already charged for `day` is
    skipped."""
    # Loans first, as every repayment locks them: a payment in flight finishes before the base
    # is read, and none starts until this night's penalty is booked.
    loans = Loan.objects.filter(status=LoanStatus.ACTIVE, pk__in=Instalment.objects.filter(
        status=InstalmentStatus.OVERDUE).values("loan_id"))
    if loan_id_from is not None:
        loans = loans.filter(pk__gte=loan_id_from)
    if loan_id_to is not None:
        loans = loans.filter(pk__lte=loan_id_to)
    locked = list(loans.select_for_update(of=("self",)).order_by("pk")
                  .values_list("pk", flat=True))
    if not locked:
        return 0
    if connection.vendor != "postgresql":
        return _accrue_one_by_one(day, locked)
    accounts = dict(LedgerAccount.objects.filter(
        code__in=[ledger.PENALTY_RECEIVABLE, ledger.PENALTY_INCOME]).values_list("code", "pk"))
    with connection.cursor() as cursor:
        cursor.execute(_ACCRUE_SQL, {
            "day": day, "next_day": day + timedelta(days=1), "kind": KIND, "memo": MEMO,
            "overdue": InstalmentStatus.OVERDUE, "active": LoanStatus.ACTIVE,
            "lo": loan_id_from, "hi": loan_id_to,
            "receivable": accounts[ledger.PENALTY_RECEIVABLE],
            "income": accounts[ledger.PENALTY_INCOME],
        })
        charged, postings = cursor.fetchone()
    if postings != (charged + 1 if charged else 0):
        raise RuntimeError(f"penalty accrual of {day}: {charged} loans, {postings} postings")
    return charged


def _accrue_one_by_one(day, loan_ids):
    """The same rule in Python, for the embedded demo database (SQLite), which has neither
    data-modifying CTEs nor exact decimal arithmetic."""
    next_day = day + timedelta(days=1)
    rows = (Instalment.objects.filter(loan_id__in=loan_ids, status=InstalmentStatus.OVERDUE)
            .order_by("loan_id", "seq")
            .values_list("pk", "loan_id", "due_date", "principal_due", "principal_paid",
                         "interest_due", "interest_paid", "penalty_due",
                         "penalty_charged_through", "loan__line__product__penalty_daily_rate",
                         "loan__line__product__grace_days"))
    per_loan = defaultdict(lambda: {"oldest": None, "base": ZERO, "late": ZERO, "rate": None,
                                    "grace": 0, "charged": False})
    for (pk, loan_id, due, p_due, p_paid, i_due, i_paid, penalty_due, charged_through, rate,
         grace) in rows:
        loan = per_loan[loan_id]
        if loan["oldest"] is None:
            loan["oldest"] = (pk, penalty_due)
        base = p_due - p_paid + i_due - i_paid
        loan["base"] += base
        loan["rate"], loan["grace"] = rate, grace
        loan["charged"] |= charged_through is not None and charged_through >= next_day
        if due == latest_due_date_overdue_on(next_day, grace):
            loan["late"] += base
    charges = {}
    for loan_id, loan in per_loan.items():
        amount = (round_money(loan["base"] * loan["rate"])
                  + loan["grace"] * round_money(loan["late"] * loan["rate"]))
        if amount > 0 and not loan["charged"]:
            charges[loan_id] = amount
    if not charges:
        return 0
    accounts = dict(LedgerAccount.objects.filter(
        code__in=[ledger.PENALTY_RECEIVABLE, ledger.PENALTY_INCOME]).values_list("code", "pk"))
    entry = JournalEntry.objects.create(kind=KIND, business_date=day, memo=MEMO)
    Posting.objects.bulk_create(
        [Posting(entry=entry, account_id=accounts[ledger.PENALTY_RECEIVABLE], loan_id=loan_id,
                 amount=amount) for loan_id, amount in charges.items()]
        + [Posting(entry=entry, account_id=accounts[ledger.PENALTY_INCOME],
                   amount=-sum(charges.values(), ZERO))], batch_size=BATCH)
    rows_update(Instalment, ["penalty_due", "penalty_charged_through"],
                [(per_loan[loan_id]["oldest"][1] + amount, next_day,
                  per_loan[loan_id]["oldest"][0]) for loan_id, amount in charges.items()])
    return len(charges)


def penalty_receivable_by_loan(loan_ids) -> dict[int, Decimal]:
    """Penalty accrued and not yet paid, per loan, from the ledger (loans with none left out).
    Read under the loans' locks: a repayment clears at most this from the receivable."""
    # Rounded to the cent: SQLite (the demo database) sums decimals as floats.
    totals = (Posting.objects.filter(loan_id__in=list(loan_ids),
                                     account__code=ledger.PENALTY_RECEIVABLE)
              .values("loan_id").annotate(total=Sum("amount")).values_list("loan_id", "total"))
    return {loan_id: round_money(Decimal(total)) for loan_id, total in totals
            if total and round_money(Decimal(total))}
