"""Errors a service raises for its caller to show: each carries a stable code.

Every app's own errors derive from `DomainError`, so a page or the API answers any of them
with the message and the code (a form error or a 400), never a 500."""


class DomainError(Exception):
    code = "invalid"

    def __init__(self, message, code=None):
        super().__init__(message)
        if code:
            self.code = code


class InvalidAmount(DomainError):
    code = "invalid_amount"


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
