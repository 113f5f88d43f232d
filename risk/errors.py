"""Errors the risk services raise for a caller to show."""

from core.errors import DomainError


class RiskError(DomainError):
    """A request the risk engine refuses, with a message meant for the person who made it."""


class NoChampion(RiskError):
    """No model has been promoted for this card yet."""
