"""Set-based delinquency updates for the nightly close: which instalments are overdue and how
many days past due each loan is. The rules are `lending.rules.delinquency`'s; collections'
close steps call these (docs/architecture.md, "The nightly close")."""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Min, OuterRef, Subquery

from ..models import CreditProduct, Instalment, InstalmentStatus, Loan, LoanStatus
from ..rules.delinquency import days_past_due, latest_due_date_overdue_on


def instalments_mark_overdue(*, day) -> int:
    """Unpaid instalments whose due date plus the product's grace days has passed by the next
    business date become overdue (逾期). Returns how many changed."""
    next_day = day + timedelta(days=1)
    marked = 0
    for product_id, grace in CreditProduct.objects.values_list("pk", "grace_days"):
        marked += Instalment.objects.filter(
            status=InstalmentStatus.PENDING, loan__line__product_id=product_id,
            due_date__lte=latest_due_date_overdue_on(next_day, grace),
        ).update(status=InstalmentStatus.OVERDUE)
    return marked


def loans_days_past_due_set(*, day) -> int:
    """Days past due as of the next business date, from each loan's oldest overdue instalment."""
    next_day = day + timedelta(days=1)
    oldest = (Instalment.objects.filter(loan=OuterRef("pk"), status=InstalmentStatus.OVERDUE)
              .values("loan").annotate(oldest=Min("due_date")).values("oldest"))
    loans = Loan.objects.filter(status=LoanStatus.ACTIVE)
    overdue = loans.filter(instalments__status=InstalmentStatus.OVERDUE).distinct()
    dates = dict(overdue.annotate(oldest=Subquery(oldest)).values_list("pk", "oldest"))
    by_days = defaultdict(list)
    for loan_id, oldest_due in dates.items():
        by_days[days_past_due(oldest_due, next_day)].append(loan_id)
    for days, ids in by_days.items():
        Loan.objects.filter(pk__in=ids).update(days_past_due=days)
    cleared = loans.exclude(pk__in=list(dates)).exclude(days_past_due=0).update(days_past_due=0)
    return len(dates) + cleared
