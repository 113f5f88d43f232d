"""The daily picture of the book by delinquency bucket (BucketSnapshot): roll rates and the
dashboards read it instead of the loans."""

from django.db.models import Case, CharField, Count, Q, Sum, Value, When

from lending.models import Loan, LoanStatus
from lending.rules.delinquency import BUCKETS

from .models import Bucket, BucketSnapshot


def _bucket_expression():
    """The bucket of each loan in SQL, from lending's one definition of the buckets."""
    whens = [When(status=LoanStatus.WRITTEN_OFF, then=Value(Bucket.WRITTEN_OFF))]
    for name, first, last in BUCKETS:
        days = Q(days_past_due__gte=first) if last is None else Q(
            days_past_due__gte=first, days_past_due__lte=last)
        whens.append(When(days, then=Value(name)))
    return Case(*whens, output_field=CharField())


def buckets_snapshot_take(*, day) -> int:
    """Count the active and written-off loans of each product by bucket, with their outstanding
    principal, as at the close of `day`. Taken once per date: a rerun keeps the first."""
    if BucketSnapshot.objects.filter(business_date=day).exists():
        return 0
    rows = (Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.WRITTEN_OFF])
            .annotate(bucket=_bucket_expression())
            .values("line__product_id", "bucket")
            .annotate(loans=Count("pk"), outstanding=Sum("outstanding_principal"))
            .order_by())
    snapshots = BucketSnapshot.objects.bulk_create(
        [BucketSnapshot(business_date=day, product_id=row["line__product_id"],
                        bucket=row["bucket"], loans=row["loans"],
                        outstanding_principal=row["outstanding"]) for row in rows],
        ignore_conflicts=True)
    return len(snapshots)
