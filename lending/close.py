"""Lending's steps of the nightly close (docs/architecture.md, "The nightly close")."""

from core.close import close_step

from .services.accrual import interest_due_accrue


@close_step(name="accrue_interest_due", order=100)
def accrue_interest_due(day):
    return interest_due_accrue(day=day)
