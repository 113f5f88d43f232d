"""Lending's steps of the nightly close (docs/architecture.md, "The nightly close")."""

from core.close import close_step

from .services.accrual import interest_due_accrue, loans_with_interest_falling_due


@close_step(name="accrue_interest_due", order=100, ids=loans_with_interest_falling_due)
def accrue_interest_due(day, first_id, last_id):
    return interest_due_accrue(day=day, loan_id_from=first_id, loan_id_to=last_id)
