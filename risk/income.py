"""Which monthly income a decision uses, and why.

A customer's profile says what they earn; nothing stops them typing a larger figure and applying
again for a larger limit. So a declared income that moved by more than RISK_INCOME_CHANGE_RATIO
since the figure their last decision used is not believed until an officer verifies it: until
then the decision uses the lower of the two figures. An officer's verification made since that
last decision settles it: the decision uses the verified figure, or the declared one if lower.

The figure chosen is the one the whole decision uses (the debt-to-income rule, the model's
features, the limit), and the decision records it with the reason (`CreditDecision.income_*`).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings

from .models import IncomeBasis


@dataclass(frozen=True)
class IncomeUsed:
    declared: Decimal
    used: Decimal
    basis: str
    # For the officer reading the decision, and the record.
    note: str

    @property
    def lowered(self) -> bool:
        return self.used < self.declared


def income_change_ratio() -> Decimal:
    return Decimal(str(settings.RISK_INCOME_CHANGE_RATIO))


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def income_to_use(*, declared: Decimal, previous: Decimal | None, previous_decision: int | None,
                  verified: Decimal | None, verified_on: date | None,
                  verification: int | None, verified_since_previous: bool) -> IncomeUsed:
    """The income this decision uses.

    `previous`: the income the customer's last decision used (any product), None before their
    first. `verified`: the customer's latest verified income, `verified_since_previous` when it
    was verified after that last decision (an older verification was already taken into
    account by the decisions since)."""
    ratio = income_change_ratio()
    if verified is not None and verified_since_previous:
        used = min(declared, verified)
        told = ("the declared figure is used" if declared <= verified
                else f"the declared {_money(declared)} is above it, so the verified figure is used")
        return IncomeUsed(declared, used, IncomeBasis.VERIFIED,
                          f"An officer verified a monthly income of {_money(verified)} on "
                          f"{verified_on:%Y-%m-%d} (verification #{verification}); {told}.")
    if previous is None:
        return IncomeUsed(declared, declared, IncomeBasis.DECLARED,
                          "The customer's first decision: the declared income is used.")
    if previous > 0:
        change = (declared - previous) / previous
        beyond = abs(change) > ratio
        shown = f"{change * 100:+.0f}%"
    else:
        beyond = declared > 0
        shown = "up from nothing"
    if not beyond:
        return IncomeUsed(declared, declared, IncomeBasis.DECLARED,
                          f"The declared income is within {ratio * 100:.0f}% of "
                          f"{_money(previous)}, the figure decision #{previous_decision} used.")
    used = min(declared, previous)
    return IncomeUsed(declared, used, IncomeBasis.UNVERIFIED_CHANGE,
                      f"The declared income {_money(declared)} changed by {shown} since "
                      f"{_money(previous)}, the figure decision #{previous_decision} used, more "
                      f"than the {ratio * 100:.0f}% accepted without verification; the lower "
                      f"figure, {_money(used)}, is used until an officer verifies the income.")
