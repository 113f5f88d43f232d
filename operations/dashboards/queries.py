"""The dashboards' figures, one function per figure, each one or two SQL statements.

Every read is of a small table or through an index, so a page costs the same on a book of a
thousand loans or a million: the bucket and vintage snapshots (a few rows per product and
night, written by the close), the models' score distributions (one row per model and night),
and the credit decisions of the last months (by business date). Nothing here reads the loans.

`today` is the business date (`core.calendar`), never the wall clock."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DateField, ExpressionWrapper, F, Max, Subquery, Sum
from django.db.models.functions import TruncMonth

from debt_collection.models import Bucket, BucketSnapshot
from lending.rules.schedule import add_months_anchored
from operations.models import VintageSnapshot
from risk.models import CreditDecision, DecisionOutcome, ScoreDistribution

# The buckets a loan rolls through, in order (written-off loans are no longer outstanding).
BUCKETS = [Bucket.CURRENT, Bucket.M1, Bucket.M2, Bucket.M3, Bucket.M4]
ROLLS = list(zip(BUCKETS, BUCKETS[1:], strict=False))


def month_start(day: date, months_back: int = 0) -> date:
    return add_months_anchored(day.replace(day=1), -months_back)


# Outstanding principal by product and bucket --------------------------------------------------

@dataclass(frozen=True)
class ProductBucket:
    product: str
    bucket: str
    loans: int
    principal: Decimal


def outstanding_by_product_and_bucket() -> tuple[date | None, list[ProductBucket]]:
    """The latest bucket snapshot: each product's loans and outstanding principal by bucket
    (one statement; the snapshot's unique index starts with its date)."""
    latest = BucketSnapshot.objects.order_by("-business_date").values("business_date")[:1]
    rows = (BucketSnapshot.objects.filter(business_date=Subquery(latest), bucket__in=BUCKETS)
            .values_list("business_date", "product__name", "bucket", "loans",
                         "outstanding_principal"))
    rows = sorted(rows, key=lambda row: (row[1], BUCKETS.index(row[2])))
    return (rows[0][0] if rows else None,
            [ProductBucket(product, bucket, loans, principal)
             for _day, product, bucket, loans, principal in rows])


# Roll rates --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RollRate:
    month: date  # the month end the balance rolled into
    source: str
    target: str
    rate: Decimal | None  # None when the source bucket held nothing the month before


def roll_rates(*, today: date, months: int = 12) -> list[RollRate]:
    """Balance-based roll rates between consecutive month ends: the principal in a bucket at
    one month end over the principal in the bucket before it at the month end before, for
    current->M1, M1->M2, M2->M3 and M3->M4, for the last `months` months (one statement over
    the bucket snapshots taken on a month's last day)."""
    next_day = ExpressionWrapper(F("business_date") + timedelta(days=1), output_field=DateField())
    rows = (BucketSnapshot.objects
            .filter(business_date__gte=month_start(today, months + 1), bucket__in=BUCKETS)
            .annotate(next_day=next_day).filter(next_day__day=1)
            .values_list("business_date", "bucket").annotate(principal=Sum("outstanding_principal"))
            .order_by())
    by_month: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for day, bucket, principal in rows:
        by_month[month_start(day)][bucket] = principal
    rates = []
    for month in sorted(by_month):
        before = by_month.get(month_start(month, 1))
        if before is None:
            continue  # no month end the month before: nothing to roll from
        for source, target in ROLLS:
            base = before.get(source, Decimal(0))
            rolled = by_month[month].get(target, Decimal(0))
            rates.append(RollRate(month, source, target, rolled / base if base else None))
    return rates


# Vintage curves --------------------------------------------------------------------------------

@dataclass(frozen=True)
class VintagePoint:
    vintage: date
    months_on_book: int
    loans: int
    loans_30_plus: int
    principal: Decimal
    principal_30_plus: Decimal

    @property
    def share(self) -> Decimal:
        return Decimal(self.loans_30_plus) / self.loans if self.loans else Decimal(0)

    @property
    def principal_share(self) -> Decimal:
        return self.principal_30_plus / self.principal if self.principal else Decimal(0)


def vintage_curves(*, today: date, vintages: int = 12) -> list[VintagePoint]:
    """Each of the last `vintages` disbursement months, as it stood at the last snapshot of
    every month since (the month end, or the latest night in the month under way), summed over
    the products (one statement over the vintage snapshots)."""
    first_vintage = month_start(today, vintages - 1)
    month_ends = (VintageSnapshot.objects.filter(business_date__gte=first_vintage)
                  .annotate(month=TruncMonth("business_date")).values("month")
                  .annotate(last=Max("business_date")).values("last"))
    rows = (VintageSnapshot.objects
            .filter(business_date__in=Subquery(month_ends), vintage__gte=first_vintage)
            .values_list("vintage", "business_date")
            .annotate(loans=Sum("loans"), loans_30_plus=Sum("loans_30_plus"),
                      principal=Sum("principal"), principal_30_plus=Sum("principal_30_plus"))
            .order_by("vintage", "business_date"))
    return [VintagePoint(vintage, _months_between(vintage, day), loans, late, principal,
                         principal_late)
            for vintage, day, loans, late, principal, principal_late in rows]


def _months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


# Approval rate and grade mix ----------------------------------------------------------------

@dataclass(frozen=True)
class DecisionMonth:
    month: date
    decided: int
    approved: int
    by_grade: dict[str, int]  # approved decisions by grade

    @property
    def approval_rate(self) -> Decimal:
        return Decimal(self.approved) / self.decided if self.decided else Decimal(0)


def decisions_by_month(*, today: date, months: int = 12) -> list[DecisionMonth]:
    """Credit decisions of the last `months` months (the one under way included) by month of
    their business date: how many were made, how many approved, and the approved ones' grades.

    One statement, grouped by the day rather than the month (a few thousand rows, added up to
    months here): grouped by the plain column, PostgreSQL reads the counts from an index on
    (business_date, outcome, grade) without touching the decisions' wide rows; grouped by
    date_trunc it scans the table."""
    rows = (CreditDecision.objects.filter(business_date__gte=month_start(today, months - 1))
            .values_list("business_date", "outcome", "grade").annotate(n=Count("*"))
            .order_by())
    decided, approved = defaultdict(int), defaultdict(int)
    grades: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, outcome, grade, n in rows:
        month = month_start(day)
        decided[month] += n
        if outcome == DecisionOutcome.APPROVED:
            approved[month] += n
            grades[month][grade or "-"] += n
    return [DecisionMonth(month, decided[month], approved[month], dict(grades[month]))
            for month in sorted(decided)]


# Model monitoring ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NightlyPsi:
    business_date: date
    model: str  # "B-card v3 (champion)"
    psi: float | None
    status: str
    scored: int


def psi_by_night(*, today: date, nights: int = 90) -> list[NightlyPsi]:
    """Each watched model's population stability index night by night over the last `nights`
    nights (one statement over the score distributions, a row per model and night)."""
    rows = (ScoreDistribution.objects.filter(business_date__gte=today - timedelta(days=nights))
            .values_list("business_date", "model_version__card", "model_version__version",
                         "role", "psi", "psi_status", "lines")
            .order_by("business_date", "model_version__card", "model_version__version"))
    names = {"application": "A-card", "behaviour": "B-card"}
    return [NightlyPsi(day, f"{names.get(card, card)} v{version} ({role})", psi, status, lines)
            for day, card, version, role, psi, status, lines in rows]

