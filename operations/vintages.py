"""The nightly vintage snapshot (`VintageSnapshot`): each month's disbursements as they stand at
the close, the raw material of the vintage curves on the dashboards. Loans keep only their state
today, so the curves' history exists only if the close writes it down each night."""

from datetime import date

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from lending.models import Loan, LoanStatus
from lending.rules.schedule import add_months_anchored

from .models import VintageSnapshot

DAYS_PAST_DUE_COUNTED = 30
# The vintages snapshotted each night: the dashboards draw the last twelve, so two years keep
# the table and the night's read bounded however old the book grows.
VINTAGE_MONTHS = 24
# A written-off loan went well past 30 days first, so it stays counted in its vintage's 30+.
THIRTY_PLUS = (Q(status=LoanStatus.ACTIVE, days_past_due__gte=DAYS_PAST_DUE_COUNTED)
               | Q(status=LoanStatus.WRITTEN_OFF))


def vintages_snapshot_take(*, day: date) -> int:
    """Count the loans of the last VINTAGE_MONTHS months of disbursements by product and month
    as at the close of `day` (one grouped read of the loans, one insert); returns the rows
    written. Taken once per date: a rerun keeps the first."""
    if VintageSnapshot.objects.filter(business_date=day).exists():
        return 0
    first_vintage = add_months_anchored(day.replace(day=1), -(VINTAGE_MONTHS - 1))
    rows = (Loan.objects.filter(disbursed_on__gte=first_vintage)
            .annotate(vintage=TruncMonth("disbursed_on"))
            .values("line__product_id", "vintage")
            .annotate(loans=Count("pk"), principal=Sum("principal"),
                      loans_30_plus=Count("pk", filter=THIRTY_PLUS),
                      principal_30_plus=Sum("outstanding_principal", filter=THIRTY_PLUS))
            .order_by())
    snapshots = VintageSnapshot.objects.bulk_create(
        [VintageSnapshot(business_date=day, product_id=row["line__product_id"],
                         vintage=row["vintage"], loans=row["loans"], principal=row["principal"],
                         loans_30_plus=row["loans_30_plus"],
                         principal_30_plus=row["principal_30_plus"] or 0) for row in rows],
        ignore_conflicts=True)
    return len(snapshots)
