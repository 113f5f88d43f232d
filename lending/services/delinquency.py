"""Set-based delinquency updates for the nightly close: which instalments are overdue and how
many days past due each loan is. The rules are `lending.rules.delinquency`'s; collections'
close steps call these (docs/architecture.md, "The nightly close"), each for one chunk of loan
ids, and each finds its work through a partial index so that a night costs what that night's
events cost, not what the book holds."""

from datetime import timedelta

from django.db import connection
from django.db.models import Min

from core.batch import rows_update

from ..models import CreditProduct, Instalment, InstalmentStatus, Loan, LoanStatus
from ..rules.delinquency import days_past_due, latest_due_date_overdue_on


def _bounds(queryset, field, first_id, last_id):
    if first_id is not None:
        queryset = queryset.filter(**{f"{field}__gte": first_id})
    if last_id is not None:
        queryset = queryset.filter(**{f"{field}__lte": last_id})
    return queryset


def _pending_due_by(day):
    """Pending instalments that may turn overdue tonight: due on or before the latest date any
    product's grace days allow (the step applies each product's own). The earliest pending due
    date, read from the partial index, bounds the range from below too, so the planner sees
    the few days it is (every earlier night turned its own instalments overdue) rather than
    guessing from the whole table's due dates."""
    least_grace = min(CreditProduct.objects.values_list("grace_days", flat=True), default=0)
    cutoff = latest_due_date_overdue_on(day + timedelta(days=1), least_grace)
    pending = Instalment.objects.filter(status=InstalmentStatus.PENDING)
    earliest = pending.aggregate(earliest=Min("due_date"))["earliest"]
    if earliest is None or earliest > cutoff:
        return pending.none()
    return pending.filter(due_date__gte=earliest, due_date__lte=cutoff)


def loans_turning_overdue(day) -> list[int]:
    """Ids of loans with an unpaid instalment that may turn overdue tonight."""
    return list(_pending_due_by(day).values_list("loan_id", flat=True).distinct()
                .order_by("loan_id"))


def instalments_mark_overdue(*, day, first_id=None, last_id=None) -> int:
    """Unpaid instalments (of loans with ids in the bounds) whose due date plus the product's
    grace days has passed by the next business date become overdue (逾期). Instalments of a
    written-off loan too: the customer still owes them. Returns how many changed."""
    next_day = day + timedelta(days=1)
    pending = _bounds(_pending_due_by(day), "loan_id", first_id, last_id)
    marked = 0
    for product_id, grace in CreditProduct.objects.values_list("pk", "grace_days"):
        marked += pending.filter(
            loan__line__product_id=product_id,
            due_date__lte=latest_due_date_overdue_on(next_day, grace),
        ).update(status=InstalmentStatus.OVERDUE)
    return marked


def loans_delinquent(day) -> list[int]:
    """Ids of loans whose days past due or penalty may change tonight: those with overdue
    instalments (after `instalments_mark_overdue`) and active loans still counted past due,
    both read from partial indexes. Written-off loans among them are skipped by the steps."""
    late = set(Instalment.objects.filter(status=InstalmentStatus.OVERDUE)
               .values_list("loan_id", flat=True).order_by().distinct())
    late.update(Loan.objects.filter(overdue_since__isnull=False, status=LoanStatus.ACTIVE)
                .values_list("pk", flat=True))
    return sorted(late)


_DAYS_PAST_DUE_SQL = """
UPDATE lending_loan l SET days_past_due = v.days, overdue_since = v.oldest
FROM (
    SELECT COALESCE(o.loan_id, d.id) AS id, o.oldest,
           COALESCE(%(next_day)s::date - o.oldest, 0) AS days
    FROM (SELECT loan_id, MIN(due_date) AS oldest FROM lending_instalment
          WHERE status = %(overdue)s AND loan_id BETWEEN %(lo)s AND %(hi)s
          GROUP BY loan_id) o
    FULL JOIN (SELECT id FROM lending_loan
               WHERE overdue_since IS NOT NULL AND status = %(active)s
                 AND id BETWEEN %(lo)s AND %(hi)s) d
           ON d.id = o.loan_id
) v
WHERE l.id = v.id AND l.id BETWEEN %(lo)s AND %(hi)s AND l.status = %(active)s
  AND l.days_past_due <> v.days
"""
# The bounds on `l` too: the join key is a COALESCE, so without them the planner hashes the
# whole loan table for every chunk.


def loans_days_past_due_set(*, day, first_id=None, last_id=None) -> int:
    """Days past due as of the next business date, and the due date they count from, from each
    active loan's oldest overdue instalment (loans with ids in the bounds). Returns how many
    loans changed."""
    next_day = day + timedelta(days=1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_DAYS_PAST_DUE_SQL, {
                "next_day": next_day, "overdue": InstalmentStatus.OVERDUE,
                "active": LoanStatus.ACTIVE,
                "lo": first_id if first_id is not None else 0,
                "hi": last_id if last_id is not None else 2**63 - 1})
            return cursor.rowcount
    return _days_past_due_set_in_python(next_day, first_id, last_id)


def _days_past_due_set_in_python(next_day, first_id, last_id):
    """The same update for the embedded demo database (SQLite)."""
    oldest = dict(_bounds(Instalment.objects.filter(status=InstalmentStatus.OVERDUE),
                          "loan_id", first_id, last_id)
                  .values("loan_id").annotate(oldest=Min("due_date"))
                  .values_list("loan_id", "oldest"))
    loans = _bounds(Loan.objects.filter(status=LoanStatus.ACTIVE), "pk", first_id, last_id)
    current = dict(loans.filter(pk__in=list(oldest)).values_list("pk", "days_past_due"))
    current.update(loans.filter(overdue_since__isnull=False).values_list("pk", "days_past_due"))
    changes = [(days, oldest.get(loan_id), loan_id) for loan_id, was in current.items()
               if (days := days_past_due(oldest.get(loan_id), next_day)) != was]
    rows_update(Loan, ["days_past_due", "overdue_since"], changes)
    return len(changes)
