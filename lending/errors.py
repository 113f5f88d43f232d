"""Errors the lending services raise for a caller to show: each carries a stable code.

Amount and idempotency errors are the platform's own (`core.errors`), shared by every app."""

from core.errors import DomainError


class LendingError(DomainError):
    code = "invalid"


class QuoteRefused(LendingError):
    code = "quote_refused"


class ExtensionRefused(LendingError):
    """A term extension the rules do not allow, or a preview the loan has moved on from."""

    code = "extension_refused"


class InsufficientCredit(LendingError):
    code = "insufficient_credit"


class LineNotUsable(LendingError):
    code = "line_not_usable"


class Overpayment(LendingError):
    code = "overpayment"


class LoanNotRepayable(LendingError):
    code = "loan_not_repayable"


class TransitionRefused(LendingError):
    """A status change the transition map does not allow from the current status."""

    code = "transition_refused"
