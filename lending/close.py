"""Lending's steps of the nightly close (docs/architecture.md, "The nightly close")."""

from core.close import close_step

from .services.accrual import interest_due_accrue, loans_with_interest_falling_due
from .services.revolving import lines_due_a_statement, statements_cut


@close_step(name="accrue_interest_due", order=100, ids=loans_with_interest_falling_due)
def accrue_interest_due(day, first_id, last_id):
    return interest_due_accrue(day=day, loan_id_from=first_id, loan_id_to=last_id)


@close_step(name="cut_statements", order=50, ids=lines_due_a_statement)
def cut_statements(day, first_id, last_id):
    """The pay-later statements dated `day` (lending/services/revolving/statements.py), before
    the overdue steps so that a statement cut tonight is what they see."""
    return statements_cut(day=day, first_id=first_id, last_id=last_id)
