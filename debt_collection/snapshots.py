"""The daily picture of the book by delinquency bucket (BucketSnapshot): roll rates and the
dashboards read it instead of the loans and statements.

Both products are counted by the same buckets: a cash-loan product's active and written-off
loans with their outstanding principal; a pay-later product's lines with an open or a
written-off statement (the open statement's days past due are the line's), each with the
principal owed on the line (its `outstanding_principal`; for a written-off line the principal
left on its written-off statement, which holds all of it). A line with nothing billed is not
counted, as a loan repaid is not."""

from collections import Counter

from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When

from lending.models import Loan, LoanStatus, Statement, StatementStatus
from lending.rules.delinquency import BUCKETS

from .models import Bucket, BucketSnapshot


def _bucket_expression(written_off):
    """The bucket of each loan or statement in SQL, from lending's one definition of the
    buckets; `written_off` is the status that means written off."""
    whens = [When(status=written_off, then=Value(Bucket.WRITTEN_OFF))]
    for name, first, last in BUCKETS:
        days = Q(days_past_due__gte=first) if last is None else Q(
            days_past_due__gte=first, days_past_due__lte=last)
        whens.append(When(days, then=Value(name)))
    return Case(*whens, output_field=CharField())


def _rows(queryset, written_off, principal):
    return (queryset.annotate(bucket=_bucket_expression(written_off))
            .values("line__product_id", "bucket")
            .annotate(count=Count("pk"), outstanding=Sum(principal))
            .values_list("line__product_id", "bucket", "count", "outstanding").order_by())


def buckets_snapshot_take(*, day) -> int:
    """Count each product's loans or pay-later statements by bucket (see the module's doc),
    with their outstanding principal, as at the close of `day`. Taken once per date: a rerun
    keeps the first."""
    if BucketSnapshot.objects.filter(business_date=day).exists():
        return 0
    loans = _rows(Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.WRITTEN_OFF]),
                  LoanStatus.WRITTEN_OFF, "outstanding_principal")
    statements = _rows(
        Statement.objects.filter(status__in=[StatementStatus.OPEN, StatementStatus.WRITTEN_OFF]),
        StatementStatus.WRITTEN_OFF,
        Case(When(status=StatementStatus.WRITTEN_OFF,
                  then=F("purchases_due") - F("purchases_paid") + F("parts_due")
                  - F("parts_paid")),
             default=F("line__outstanding_principal")))
    counts, outstanding = Counter(), Counter()
    for product_id, bucket, count, principal in [*loans, *statements]:
        counts[product_id, bucket] += count
        outstanding[product_id, bucket] += principal
    snapshots = BucketSnapshot.objects.bulk_create(
        [BucketSnapshot(business_date=day, product_id=product_id, bucket=bucket, loans=count,
                        outstanding_principal=outstanding[product_id, bucket])
         for (product_id, bucket), count in counts.items()],
        ignore_conflicts=True)
    return len(snapshots)
