"""The pay-later line's statement rules (花呗账单), pure functions over plain values: which
statement a purchase belongs to, the due date, the minimum payment, revolving interest, how a
payment is spread, and when a statement is past due. The README states each rule in words;
`lending/services/revolving/` applies them and the nightly close's statement cut applies the
same rules in SQL (each such statement names the function it mirrors).

Worked figures for each are in tests/lending/test_statement_rules.py."""

from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .delinquency import latest_due_date_overdue_on

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def statement_date_for(day: date, statement_day: int) -> date:
    """The statement that bills a purchase posted on `day`: purchases after one statement day
    up to and including the next belong to that next one (statement day 1 to 28, so every
    month has it)."""
    if day.day <= statement_day:
        return day.replace(day=statement_day)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, statement_day)


def previous_statement_date(statement_date: date) -> date:
    """The statement day a month before (the cycle starts the day after it)."""
    year, month = ((statement_date.year - 1, 12) if statement_date.month == 1
                   else (statement_date.year, statement_date.month - 1))
    return statement_date.replace(year=year, month=month)


def due_date_of(statement_date: date, due_days: int) -> date:
    return statement_date + timedelta(days=due_days)


def minimum_payment(*, rate: Decimal, new_purchases: Decimal, revolved_principal: Decimal,
                    parts: Decimal, fees: Decimal, interest: Decimal, penalty: Decimal,
                    carried_charges: Decimal, earlier_minimum_unpaid: Decimal,
                    balance: Decimal) -> Decimal:
    """最低还款额: round_half_up(rate x (new purchases + revolved principal)) + the instalment
    parts, fees, interest and penalty billed on the statement + the earlier minimum left unpaid,
    never more than the statement's balance.

    `fees`, `interest` and `penalty` are the statement's amounts due, which include what the
    statement before left unpaid (`carried_charges`); those were part of the earlier minimum, so
    only the rest of the earlier minimum is added (each amount counts once)."""
    share = (rate * (new_purchases + revolved_principal)).quantize(CENT, ROUND_HALF_UP)
    earlier = max(earlier_minimum_unpaid - carried_charges, ZERO)
    return min(share + parts + fees + interest + penalty + earlier, max(balance, ZERO))


def revolving_interest(*, principal: Decimal, credits: list[tuple[date, Decimal]],
                       start: date, end: date, daily_rate: Decimal) -> Decimal:
    """循环利息 on a statement not paid in full by its due date: `daily_rate` on its unpaid
    principal for every day from `start` (its statement day) to the day before `end` (the next
    statement day, when it is charged), each credit (a payment's principal, a refund, a
    conversion) lowering the base from the day after it. Interest and penalty are never in the
    base. Rounded half-up once."""
    base_days = principal * (end - start).days
    for day, amount in credits:
        # A credit on `day` lowers the base from day + 1 to end - 1: (end - 1 - day) days.
        days = (end - day).days - 1
        if days > 0:
            base_days -= amount * min(days, (end - start).days)
    return max((base_days * daily_rate).quantize(CENT, ROUND_HALF_UP), ZERO)


@dataclass(frozen=True)
class StatementOwed:
    """What is left to pay on a statement, component by component, in payment order."""

    penalty: Decimal = ZERO
    interest: Decimal = ZERO
    fees: Decimal = ZERO
    parts: Decimal = ZERO
    purchases: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((getattr(self, f.name) for f in fields(self)), ZERO)


def statement_owed(statement) -> StatementOwed:
    """What is left to pay on a statement (a `Statement` or anything with its `*_due` and
    `*_paid` amounts), component by component; nothing for no statement."""
    if statement is None:
        return StatementOwed()
    return StatementOwed(
        penalty=statement.penalty_due - statement.penalty_paid,
        interest=statement.interest_due - statement.interest_paid,
        fees=statement.fees_due - statement.fees_paid,
        parts=statement.parts_due - statement.parts_paid,
        purchases=statement.purchases_due - statement.purchases_paid)


@dataclass(frozen=True)
class PaymentSplit:
    penalty: Decimal = ZERO
    interest: Decimal = ZERO
    fees: Decimal = ZERO
    parts: Decimal = ZERO
    purchases: Decimal = ZERO
    # Unbilled purchases paid early, oldest first: (purchase id, amount).
    unbilled: tuple[tuple[int, Decimal], ...] = ()

    @property
    def to_statement(self) -> Decimal:
        return self.penalty + self.interest + self.fees + self.parts + self.purchases

    @property
    def to_unbilled(self) -> Decimal:
        return sum((amount for _, amount in self.unbilled), ZERO)


class PaymentTooLarge(ValueError):
    def __init__(self, owed: Decimal):
        super().__init__(owed)
        self.owed = owed


def split_payment(amount: Decimal, owed: StatementOwed,
                  unbilled: list[tuple[int, Decimal]]) -> PaymentSplit:
    """Spread a payment: the open statement's penalty, interest, fees, instalment parts, then
    purchases; then purchases not yet billed, oldest first (`unbilled`: id and amount left,
    oldest first). More than all of that together is refused (`PaymentTooLarge`)."""
    total_owed = owed.total + sum((left for _, left in unbilled), ZERO)
    if amount > total_owed:
        raise PaymentTooLarge(total_owed)
    left = amount
    parts = {}
    for f in fields(owed):
        take = min(left, getattr(owed, f.name))
        parts[f.name] = take
        left -= take
    early = []
    for purchase_id, purchase_left in unbilled:
        if left <= 0:
            break
        take = min(left, purchase_left)
        if take > 0:
            early.append((purchase_id, take))
            left -= take
    return PaymentSplit(**parts, unbilled=tuple(early))


def is_past_due(*, due_date: date, grace_days: int, day: date) -> bool:
    """A statement whose minimum is not paid is past due from the day after its due date plus
    grace days (the loans' rule: `latest_due_date_overdue_on`)."""
    return due_date <= latest_due_date_overdue_on(day, grace_days)


def overdue_since(*, carried_since: date | None, earlier_minimum_unpaid: Decimal,
                  minimum_due: Decimal, paid: Decimal, due_date: date, grace_days: int,
                  day: date) -> date | None:
    """The date a statement's days past due count from on `day`, or None when it is current.

    A minimum left unpaid on the statement before keeps counting from that statement's due
    date (`carried_since`) until this statement has been paid as much as was left unpaid then;
    once this statement is itself past due with less than its minimum paid, it counts from its
    own due date unless an older date still holds."""
    if carried_since is not None and paid < earlier_minimum_unpaid:
        return carried_since
    if is_past_due(due_date=due_date, grace_days=grace_days, day=day) and paid < minimum_due:
        return due_date
    return None
