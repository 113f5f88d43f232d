"""Overdue processing in the nightly close: instalments turn overdue, penalty interest accrues,
days past due are set, and the book is photographed by bucket."""

from core.close import close_step
from lending.services.delinquency import (
    instalments_mark_overdue,
    loans_days_past_due_set,
    loans_delinquent,
    loans_turning_overdue,
)
from lending.services.penalty import loans_penalty_accrue
from lending.services.revolving import statements_past_due_set, statements_past_their_due_date

from ..snapshots import buckets_snapshot_take


@close_step(name="mark_overdue", order=200, ids=loans_turning_overdue)
def mark_overdue(day, first_id, last_id):
    return instalments_mark_overdue(day=day, first_id=first_id, last_id=last_id)


@close_step(name="accrue_penalty", order=250, ids=loans_delinquent)
def accrue_penalty(day, first_id, last_id):
    """Penalty interest on overdue instalments (lending/services/penalty.py has the rule)."""
    return loans_penalty_accrue(day=day, loan_id_from=first_id, loan_id_to=last_id)


@close_step(name="set_days_past_due", order=300, ids=loans_delinquent)
def set_days_past_due(day, first_id, last_id):
    return loans_days_past_due_set(day=day, first_id=first_id, last_id=last_id)


@close_step(name="set_statements_past_due", order=310, ids=statements_past_their_due_date)
def set_statements_past_due(day, first_id, last_id):
    """Pay-later statements: past due, days past due and penalty by the loans' rules
    (lending/services/revolving/delinquency.py)."""
    return statements_past_due_set(day=day, first_id=first_id, last_id=last_id)


@close_step(name="snapshot_buckets", order=650)
def snapshot_buckets(day, first_id, last_id):
    """One row per product and bucket, after the night's write-offs: one chunk."""
    return buckets_snapshot_take(day=day)
