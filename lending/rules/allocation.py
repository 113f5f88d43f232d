"""How a payment is spread over a loan's instalments. Pure: no database, easy to test.

Oldest due first; within an instalment penalty, then interest, then fees, then principal.
Whatever is left pays the current period's interest to date and then future principal, from
the last instalment backwards (the term shortens). Interest of the periods not yet due is
recomputed on the principal that remains, so an early payoff costs interest to the day only.

A row a term extension `carried` over (interest and penalty of the schedule it replaced, no
principal) is owed already: a payment settles it first, like anything due, even before its due
date; it is never a period of the schedule, so it is not re-priced.

The states are the loan's live schedule: rows a term extension superseded are not passed in."""

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from core.money import round_money

from ..errors import Overpayment

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class InstalmentState:
    seq: int
    period_start: date
    due_date: date
    principal_due: Decimal
    interest_due: Decimal
    fee_due: Decimal = ZERO
    penalty_due: Decimal = ZERO
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    fee_paid: Decimal = ZERO
    penalty_paid: Decimal = ZERO
    interest_settled_to: date | None = None
    interest_accrued: bool = False
    carried: bool = False

    @property
    def principal_left(self):
        return self.principal_due - self.principal_paid

    @property
    def remaining(self):
        return (self.principal_due + self.interest_due + self.fee_due + self.penalty_due
                - self.principal_paid - self.interest_paid - self.fee_paid - self.penalty_paid)


@dataclass
class Allocation:
    instalments: list  # new InstalmentState per seq, same order
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    interest_accrued: Decimal = ZERO  # part of `interest` already booked as receivable
    fee: Decimal = ZERO
    penalty: Decimal = ZERO
    changed: set = field(default_factory=set)

    @property
    def total(self):
        return self.principal + self.interest + self.fee + self.penalty


def _split_due_now(states, today):
    """Unpaid instalments due by today, and every instalment not yet due.

    The first not-yet-due instalment is the current period even when it is settled already
    (early repayments can bring a period's interest and principal to zero)."""
    due = [s for s in states if (s.due_date <= today or s.carried) and s.remaining > 0]
    future = [s for s in states if s.due_date > today and not s.carried]
    return due, future


def _interest_to_date(head, outstanding, today, daily_rate):
    """The head period's interest from its start to today, on the principal as it stood.

    After an early repayment on day S the head's interest_due is (charged up to S) plus
    (outstanding x rate x days from S to the due date), so what was charged up to S can be
    read back from it; principal only changes on such days, so it was constant since S."""
    since = head.interest_settled_to or head.period_start
    charged_before = ZERO
    if head.interest_settled_to:
        charged_before = head.interest_due - round_money(
            outstanding * daily_rate * (head.due_date - since).days)
    return charged_before + round_money(outstanding * daily_rate * (today - since).days)


def _unpaid_interest_to_date(future, today, daily_rate):
    head = future[0]
    outstanding = sum((s.principal_left for s in future), ZERO)
    return max(_interest_to_date(head, outstanding, today, daily_rate) - head.interest_paid, ZERO)


def payoff_amount(states, today: date, daily_rate: Decimal) -> Decimal:
    """All that settles the loan today: everything due, interest to date, remaining principal."""
    due, future = _split_due_now(states, today)
    amount = sum((s.remaining for s in due), ZERO)
    if future:
        amount += _unpaid_interest_to_date(future, today, daily_rate)
        amount += sum((s.principal_left for s in future), ZERO)
    return amount


def allocate_payment(states, amount: Decimal, today: date, daily_rate: Decimal) -> Allocation:
    payoff = payoff_amount(states, today, daily_rate)
    if amount > payoff:
        raise Overpayment(f"The payment of {amount} is more than the {payoff} that settles this "
                          "loan today.")
    by_seq = {s.seq: s for s in states}
    result = Allocation(instalments=[])
    left = amount
    due, future = _split_due_now(states, today)

    for s in due:
        paid = {}
        for part in ("penalty", "interest", "fee", "principal"):
            owed = getattr(s, f"{part}_due") - getattr(s, f"{part}_paid")
            take = min(owed, left)
            left -= take
            paid[part] = take
        if any(paid.values()):
            by_seq[s.seq] = replace(
                s, **{f"{p}_paid": getattr(s, f"{p}_paid") + v for p, v in paid.items()})
            result.changed.add(s.seq)
            result.penalty += paid["penalty"]
            result.interest += paid["interest"]
            if s.interest_accrued:
                result.interest_accrued += paid["interest"]
            result.fee += paid["fee"]
            result.principal += paid["principal"]

    if left > 0 and future:
        _prepay(by_seq, future, left, today, daily_rate, result)

    result.instalments = [by_seq[s.seq] for s in states]
    return result


def _prepay(by_seq, future, amount, today, daily_rate, result):
    head = future[0]
    opening = sum((s.principal_left for s in future), ZERO)
    through_today = _interest_to_date(head, opening, today, daily_rate)
    interest_now = min(amount, max(through_today - head.interest_paid, ZERO))
    principal_now = amount - interest_now
    result.interest += interest_now
    result.principal += principal_now

    # Principal from the last instalment backwards.
    to_pay = principal_now
    for s in reversed(future):
        take = min(s.principal_left, to_pay)
        if take:
            by_seq[s.seq] = replace(by_seq[s.seq], principal_paid=s.principal_paid + take)
            to_pay -= take

    # Re-price interest on what remains: the head period is charged to today plus the rest of
    # the period on the new principal; later periods in full on their opening principal.
    remaining = [by_seq[s.seq] for s in future]
    outstanding = opening - principal_now
    head = remaining[0]
    by_seq[head.seq] = replace(
        head,
        interest_paid=head.interest_paid + interest_now,
        interest_due=through_today + round_money(
            outstanding * daily_rate * (head.due_date - today).days),
        interest_settled_to=today,
    )
    outstanding -= head.principal_left
    for s in remaining[1:]:
        days = (s.due_date - s.period_start).days
        by_seq[s.seq] = replace(s, interest_due=round_money(outstanding * daily_rate * days))
        outstanding -= s.principal_left
    result.changed.update(s.seq for s in future)
