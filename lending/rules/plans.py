"""Instalment plans (分期) of the pay-later line: a statement or a purchase converted into equal
monthly parts with a fee, and the APR the customer is shown (by IRR, the cash-loan quote's
method). Pure functions; worked figures in tests/lending/test_plan_rules.py."""

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .schedule import annual_percentage_rate

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PlanPartQuote:
    seq: int
    principal: Decimal
    fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.fee


@dataclass(frozen=True)
class PlanQuote:
    principal: Decimal
    term_months: int
    fee_rate: Decimal
    fee_total: Decimal
    parts: tuple[PlanPartQuote, ...]
    apr: Decimal


def _even_split(total: Decimal, parts: int) -> list[Decimal]:
    """`parts` equal amounts rounded down to the cent, the last taking the remainder."""
    each = (total / parts).quantize(CENT, ROUND_DOWN)
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def quote_plan(*, principal: Decimal, term_months: int, fee_rate: Decimal) -> PlanQuote:
    """The parts of `principal` converted into `term_months` parts: fee = round_half_up(principal
    x fee_rate); principal and fee each split evenly, the last part taking the remainders. The
    APR is the IRR of (-principal, part 1 .. part n) x 12, as for a cash loan."""
    fee_total = (principal * fee_rate).quantize(CENT, ROUND_HALF_UP)
    parts = tuple(PlanPartQuote(seq, p, f) for seq, (p, f) in enumerate(
        zip(_even_split(principal, term_months), _even_split(fee_total, term_months),
            strict=True), start=1))
    apr = annual_percentage_rate(principal, parts) if fee_total > 0 else Decimal("0.00")
    return PlanQuote(principal, term_months, fee_rate, fee_total, parts, apr)


def shorten_plan(parts: list[tuple[int, Decimal]], amount: Decimal) -> list[tuple[int, Decimal]]:
    """A refund on a purchase in a plan shortens it: the unbilled parts (seq, principal), last
    first, lose principal until `amount` is used. Returns the new principal of each part whose
    principal changed, (seq, new principal); a part left at zero is cancelled by the caller."""
    changed = []
    left = amount
    for seq, principal in sorted(parts, reverse=True):
        if left <= 0:
            break
        take = min(left, principal)
        changed.append((seq, principal - take))
        left -= take
    return changed
