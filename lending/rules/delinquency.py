"""How late a loan is and what is due on a day: the one definition of each
(docs/architecture.md, "One owner per rule")."""

from datetime import date, timedelta
from decimal import Decimal

from ..models import InstalmentStatus

ZERO = Decimal("0.00")


def latest_due_date_overdue_on(day: date, grace_days: int) -> date:
    """Instalments due on or before this date and still unpaid are overdue on `day`."""
    return day - timedelta(days=grace_days + 1)


def days_past_due(oldest_overdue_due_date: date | None, day: date) -> int:
    """Days past due on `day`, counted from the due date of the oldest overdue instalment."""
    return (day - oldest_overdue_due_date).days if oldest_overdue_due_date else 0


def days_past_due_of(instalments, day: date) -> int:
    """Days past due of a loan from its instalments (anything with `status`, `due_date` and
    `remaining`): the oldest overdue one that still owes something."""
    overdue = [i.due_date for i in instalments
               if i.status == InstalmentStatus.OVERDUE and i.remaining > 0]
    return days_past_due(min(overdue) if overdue else None, day)


def amount_due_by(instalments, day: date) -> Decimal:
    """What is owed on `day` for instalments due by then (not the payoff amount)."""
    return sum((i.remaining for i in instalments
                if i.due_date <= day and i.status != InstalmentStatus.PAID), ZERO)
