"""Collections' reads: a collector's queue and the month-by-month results the dashboards
show."""

from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Sum, Value, When
from django.db.models.functions import TruncMonth

from core.calendar import business_date_today
from lending.models import CreditLine, Loan, Repayment
from lending.models.loans import Recovery

from .models import Bucket, CaseStatus, CollectionCase, PromiseStatus, PromiseToPay

ZERO = Decimal("0.00")

# A case's priority by bucket, the later the higher. There is no collection score yet; when
# there is one, it goes first. Written-off cases come last: the loss is booked and what is
# recovered from them is the least likely, so a collector's day goes to the loans that can
# still be saved.
_BUCKET_PRIORITY = {Bucket.M4: 4, Bucket.M3: 3, Bucket.M2: 2, Bucket.M1: 1,
                    Bucket.CURRENT: 0, Bucket.WRITTEN_OFF: -1}


def bucket_priority():
    """A case's bucket as a number to sort by, highest first."""
    return Case(*[When(bucket=bucket, then=Value(rank))
                  for bucket, rank in _BUCKET_PRIORITY.items()],
                default=Value(0), output_field=IntegerField())


def cases_in_priority(queryset):
    """`queryset` of cases in the order a collector should work them: the later bucket first,
    then the larger amount overdue, then the longer past due; the case number breaks ties."""
    return (queryset.annotate(priority=bucket_priority())
            .order_by("-priority", "-amount_overdue", "-days_past_due", "pk"))


def collector_queue(user):
    """The open cases assigned to `user`, in priority order, with their customers."""
    return cases_in_priority(CollectionCase.objects.filter(status=CaseStatus.OPEN,
                                                           assigned_to=user)
                             .select_related("customer", "customer__profile"))


def _month_starts(months: int, today: date) -> list[date]:
    """The first days of the last `months` months, the current one last."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _by_month(queryset, day_field, **sums):
    return {row["month"].date() if hasattr(row["month"], "date") else row["month"]: row
            for row in queryset.annotate(month=TruncMonth(day_field)).values("month")
            .annotate(**sums).order_by()}


def _in_case_window(customer_field, day_field):
    """A payment made while its customer had a case open: the case was open on its date."""
    return Exists(CollectionCase.objects.filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=OuterRef(day_field)),
        customer_id=OuterRef(customer_field), opened_on__lte=OuterRef(day_field)))


# The repayments made while their customer had a case open, driven from the cases: each case's
# customer -> lines -> loans -> repayments in the case's window, through the foreign keys'
# indexes (a few lookups per case). The same filter written from the repayments' side (every
# repayment -> its customer -> was a case open?) makes PostgreSQL hash-join the whole of the
# lines, loans and repayments, a second on a million-loan book, for the tenth of customers who
# have had a case. OFFSET 0 keeps the per-case subquery a nested loop. DISTINCT counts a
# repayment once when two of a customer's cases cover its date (one closed the day the next
# opened), as the EXISTS of `_in_case_window` does.
_REPAID_IN_CASES_SQL = f"""
SELECT month, SUM(amount) FROM (
    SELECT DISTINCT paid.id, date_trunc('month', paid.paid_on)::date AS month, paid.amount
    FROM {CollectionCase._meta.db_table} collection_case
    CROSS JOIN LATERAL (
        SELECT repayment.id, repayment.paid_on, repayment.amount
        FROM {CreditLine._meta.db_table} line
        JOIN {Loan._meta.db_table} loan ON loan.line_id = line.id
        JOIN {Repayment._meta.db_table} repayment ON repayment.loan_id = loan.id
        WHERE line.customer_id = collection_case.customer_id
          AND repayment.paid_on >= %(since)s
          AND repayment.paid_on >= collection_case.opened_on
          AND (collection_case.closed_on IS NULL OR repayment.paid_on <= collection_case.closed_on)
        OFFSET 0) paid
    WHERE collection_case.closed_on IS NULL OR collection_case.closed_on >= %(since)s
) in_case
GROUP BY month"""


def _repaid_in_cases_by_month(since: date) -> dict[date, dict]:
    """Repayments from `since` made on a date when their customer had a case open, summed by
    month: {first day of the month: {"amount": sum}}, as `_by_month` gives."""
    if connection.vendor != "postgresql":
        # The embedded demo database (SQLite) has no LATERAL; its books are small.
        return _by_month(Repayment.objects.filter(paid_on__gte=since).filter(
            _in_case_window("loan__line__customer_id", "paid_on")), "paid_on",
            amount=Sum("amount"))
    with connection.cursor() as cursor:
        cursor.execute(_REPAID_IN_CASES_SQL, {"since": since})
        return {month: {"amount": amount} for month, amount in cursor.fetchall()}


def collection_results(months: int = 12) -> list[dict]:
    """Per month of the last `months` (the current one last): promises made, kept and broken
    (made by their date of making, kept and broken by the date they were resolved), the amount
    promised, and the amount recovered, i.e. repayments and recoveries on the loans of
    customers on dates when they had a case open. A few grouped queries, none per case."""
    starts = _month_starts(months, business_date_today())
    since = starts[0]
    made = _by_month(PromiseToPay.objects.filter(made_on__gte=since), "made_on",
                     made=Count("pk"), promised=Sum("amount"))
    resolved = _by_month(PromiseToPay.objects.filter(resolved_on__gte=since), "resolved_on",
                         kept=Count("pk", filter=Q(status=PromiseStatus.KEPT)),
                         broken=Count("pk", filter=Q(status=PromiseStatus.BROKEN)))
    repaid = _repaid_in_cases_by_month(since)
    recovered = _by_month(Recovery.objects.filter(received_on__gte=since).filter(
        _in_case_window("loan__line__customer_id", "received_on")), "received_on",
        amount=Sum("amount"))
    zero = {"made": 0, "promised": None, "kept": 0, "broken": 0, "amount": None}
    results = []
    for start in starts:
        recovered_amount = ((repaid.get(start, zero)["amount"] or ZERO)
                            + (recovered.get(start, zero)["amount"] or ZERO))
        results.append({
            "month": start,
            "promises_made": made.get(start, zero)["made"],
            "amount_promised": made.get(start, zero)["promised"] or ZERO,
            "promises_kept": resolved.get(start, zero)["kept"],
            "promises_broken": resolved.get(start, zero)["broken"],
            "amount_recovered": recovered_amount,
        })
    return results
