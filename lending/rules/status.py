"""The allowed status transitions of lines, loans and instalments: one map per status field
(docs/architecture.md, "State machines"). A service that changes a status asks
`transition_check` first; nothing else sets a status."""

from ..errors import TransitionRefused
from ..models import CreditLineStatus, InstalmentStatus, LoanStatus

LINE_TRANSITIONS = {
    CreditLineStatus.ACTIVE: {CreditLineStatus.FROZEN, CreditLineStatus.CLOSED},
    CreditLineStatus.FROZEN: {CreditLineStatus.ACTIVE, CreditLineStatus.CLOSED},
    CreditLineStatus.CLOSED: set(),
}
LOAN_TRANSITIONS = {
    # Written off (核销) at the product's write-off days past due, or by an officer; for good:
    # money received afterwards is a recovery (lending/services/write_off.py).
    LoanStatus.ACTIVE: {LoanStatus.PAID_OFF, LoanStatus.WRITTEN_OFF},
    LoanStatus.PAID_OFF: set(),
    LoanStatus.WRITTEN_OFF: set(),
}
INSTALMENT_TRANSITIONS = {
    InstalmentStatus.PENDING: {InstalmentStatus.OVERDUE, InstalmentStatus.PAID,
                               InstalmentStatus.SUPERSEDED},
    InstalmentStatus.OVERDUE: {InstalmentStatus.PAID, InstalmentStatus.SUPERSEDED},
    # Paying a period early settles its interest to date; a later payment that re-prices the
    # interest of a period not yet over can make it owe again. A term extension supersedes the
    # periods not yet due, even one paid ahead.
    InstalmentStatus.PAID: {InstalmentStatus.PENDING, InstalmentStatus.SUPERSEDED},
    # For good: the extension's new schedule took over what it owed.
    InstalmentStatus.SUPERSEDED: set(),
}


def transition_check(transitions, old, new, *, what: str):
    """Refuse a change of status the map does not allow (staying put is not a change)."""
    if old != new and new not in transitions[old]:
        raise TransitionRefused(f"A {what} cannot go from {old} to {new}.")
