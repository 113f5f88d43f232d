"""How late a loan is and what is due on a day: the one definition of each
(docs/architecture.md, "One owner per rule")."""

from datetime import date, timedelta
from decimal import Decimal

from ..models import InstalmentStatus

ZERO = Decimal("0.00")


# Delinquency buckets by days past due: (name, first day, last day or None for no end). A loan
# past the last is written off by the close at its product's write-off days (180 by default).
BUCKETS = (("current", 0, 0), ("M1", 1, 30), ("M2", 31, 60), ("M3", 61, 90), ("M4", 91, None))


def bucket_of(days: int) -> str:
    """The bucket of a loan `days` past due."""
    for name, first, last in BUCKETS:
        if days >= first and (last is None or days <= last):
            return name
    raise ValueError(f"days past due cannot be negative: {days}")


def latest_due_date_overdue_on(day: date, grace_days: int) -> date:
    """Instalments due on or before this date and still unpaid are overdue on `day`."""
    return day - timedelta(days=grace_days + 1)


def days_past_due(oldest_overdue_due_date: date | None, day: date) -> int:
    """Days past due on `day`, counted from the due date of the oldest overdue instalment."""
    return (day - oldest_overdue_due_date).days if oldest_overdue_due_date else 0


def oldest_overdue_due_date(instalments) -> date | None:
    """The due date days past due count from (a loan's `overdue_since`): that of the oldest
    overdue instalment that still owes something (anything with `status`, `due_date` and
    `remaining`), None when nothing is overdue."""
    overdue = [i.due_date for i in instalments
               if i.status == InstalmentStatus.OVERDUE and i.remaining > 0]
    return min(overdue) if overdue else None



def amount_due_by(instalments, day: date) -> Decimal:
    """What is owed on `day` for instalments due by then (not the payoff amount)."""
    return sum((i.remaining for i in instalments
                if i.due_date <= day and i.status != InstalmentStatus.PAID), ZERO)
