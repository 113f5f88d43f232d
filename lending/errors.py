"""Errors the lending services raise for a caller to show: each carries a stable code."""


class LendingError(Exception):
    code = "invalid"

    def __init__(self, message, code=None):
        super().__init__(message)
        if code:
            self.code = code


class InvalidAmount(LendingError):
    code = "invalid_amount"


class QuoteRefused(LendingError):
    code = "quote_refused"


class InsufficientCredit(LendingError):
    code = "insufficient_credit"


class LineNotUsable(LendingError):
    code = "line_not_usable"


class Overpayment(LendingError):
    code = "overpayment"


class LoanNotRepayable(LendingError):
    code = "loan_not_repayable"


class IdempotencyConflict(LendingError):
    code = "idempotency_conflict"
