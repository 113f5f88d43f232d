"""Collections' steps of the nightly close: overdue processing (docs/architecture.md).

The delinquency rules and the tables they change are lending's; these steps decide when they
run, through lending's services."""

from core.close import close_step
from lending.services.delinquency import instalments_mark_overdue, loans_days_past_due_set
from lending.services.penalty import loans_penalty_accrue


@close_step(name="mark_overdue", order=200)
def mark_overdue(day):
    return instalments_mark_overdue(day=day)


@close_step(name="accrue_penalty", order=250)
def accrue_penalty(day):
    """Penalty interest on overdue instalments (lending/services/penalty.py has the rule)."""
    return loans_penalty_accrue(day=day)


@close_step(name="set_days_past_due", order=300)
def set_days_past_due(day):
    return loans_days_past_due_set(day=day)
