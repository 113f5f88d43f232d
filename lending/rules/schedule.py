"""The quote: the exact schedule and APR that origination books. Pure functions, no database.

Rules (one place, used by the pages, the API, origination and `manage.py loan_quote`):
- due dates fall monthly on the disbursement's day of month, clamped to the month's end
  (Jan 31 -> Feb 28 -> Mar 31 -> Apr 30);
- interest of a period = round_half_up(outstanding x daily rate x actual days, 0.01);
- equal_instalment: A = round_half_up(P i / (1 - (1 + i)^-n), 0.01), i = daily rate x 30,
  principal = A - interest (never below 0), the last instalment takes what remains;
- equal_principal: round_half_up(P / n, 0.01) each period, the last takes the remainder;
- interest_first: interest each period, all principal with the last;
- APR = IRR of (-P, total_1 .. total_n) x 12, in percent to two decimals.
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial

from core.money import round_money, to_decimal, to_money

from ..errors import QuoteRefused
from ..models import RepaymentMethod

MAX_TERM_MONTHS = 360


@dataclass(frozen=True)
class ScheduledInstalment:
    seq: int
    period_start: date
    due_date: date
    days: int
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True)
class Quote:
    principal: Decimal
    term_months: int
    daily_rate: Decimal
    method: str
    start: date
    instalments: tuple[ScheduledInstalment, ...]
    apr: Decimal

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.instalments), Decimal("0.00"))

    @property
    def total_repayable(self) -> Decimal:
        return self.principal + self.total_interest

    def as_dict(self) -> dict:
        return {
            "principal": str(self.principal),
            "term": self.term_months,
            "daily_rate": str(self.daily_rate),
            "method": self.method,
            "start": self.start.isoformat(),
            "apr": str(self.apr),
            "instalments": [
                {
                    "seq": i.seq,
                    "due_date": i.due_date.isoformat(),
                    "days": i.days,
                    "principal": str(i.principal),
                    "interest": str(i.interest),
                    "total": str(i.total),
                }
                for i in self.instalments
            ],
            "total_interest": str(self.total_interest),
            "total_repayable": str(self.total_repayable),
        }


def add_months_anchored(start: date, months: int) -> date:
    """The start's day of month, `months` later, clamped to that month's last day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(start: date, term_months: int) -> list[date]:
    # Anchored to the start, not chained: Jan 31 -> Feb 28 -> Mar 31, never Mar 28.
    return [add_months_anchored(start, k) for k in range(1, term_months + 1)]


def period_interest(outstanding: Decimal, daily_rate: Decimal, days: int) -> Decimal:
    return round_money(outstanding * daily_rate * days)


def level_payment(principal: Decimal, daily_rate: Decimal, term_months: int) -> Decimal:
    """A = P i / (1 - (1 + i)^-n) with the monthly rate i = daily rate x 30, in Decimal."""
    i = daily_rate * 30
    return round_money(principal * i / (1 - (1 + i) ** -term_months))


def _principal_parts(method, principal, term_months, daily_rate):
    """A function giving period k's principal from (k, outstanding, interest)."""
    if method == RepaymentMethod.EQUAL_INSTALMENT:
        payment = level_payment(principal, daily_rate, term_months)
        return lambda k, outstanding, interest: max(payment - interest, Decimal("0.00"))
    if method == RepaymentMethod.EQUAL_PRINCIPAL:
        part = round_money(principal / term_months)
        return lambda k, outstanding, interest: part
    if method == RepaymentMethod.INTEREST_FIRST:
        return lambda k, outstanding, interest: Decimal("0.00")
    raise QuoteRefused(f"Unknown repayment method {method!r}.")


def build_schedule(principal, term_months, daily_rate, method, start, dates=None):
    """The instalments of `principal` over `term_months` from `start`. `dates`: the due dates,
    when they are not monthly from `start` (a term extension keeps the loan's own due days,
    anchored to its disbursement, from a period start that may be a clamped month's end)."""
    parts = _principal_parts(method, principal, term_months, daily_rate)
    outstanding = principal
    previous = start
    rows = []
    for k, due in enumerate(dates or due_dates(start, term_months), start=1):
        days = (due - previous).days
        interest = period_interest(outstanding, daily_rate, days)
        if k == term_months:
            part = outstanding
        else:
            part = min(parts(k, outstanding, interest), outstanding)
        rows.append(ScheduledInstalment(k, previous, due, days, part, interest))
        outstanding -= part
        previous = due
    return tuple(rows)


def annual_percentage_rate(principal: Decimal, instalments) -> Decimal:
    """IRR of the monthly cash flows, times 12, in percent. A rate, so float math is fine here."""
    flows = [-float(principal)] + [float(i.total) for i in instalments]
    monthly = numpy_financial.irr(flows)
    return (Decimal(repr(float(monthly))) * 1200).quantize(Decimal("0.01"), ROUND_HALF_UP)


def quote_loan(*, principal, term_months, daily_rate, method, start: date,
               apr_cap: Decimal | None = None) -> Quote:
    """The schedule and APR for these terms; refuses bad terms and an APR above `apr_cap`."""
    principal = to_money(principal, what="principal")
    daily_rate = to_decimal(daily_rate, what="daily rate")
    if daily_rate <= 0 or daily_rate >= 1:
        raise QuoteRefused("The daily rate must be between 0 and 1.")
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise QuoteRefused("The term must be a whole number of months.")
    if not 1 <= term_months <= MAX_TERM_MONTHS:
        raise QuoteRefused(f"The term must be between 1 and {MAX_TERM_MONTHS} months.")
    if method not in RepaymentMethod.values:
        raise QuoteRefused(f"Unknown repayment method {method!r}.")
    instalments = build_schedule(principal, term_months, daily_rate, method, start)
    apr = annual_percentage_rate(principal, instalments)
    if apr_cap is not None and apr > apr_cap:
        raise QuoteRefused(f"The APR of {apr}% is above this product's cap of {apr_cap}%.")
    return Quote(principal, term_months, daily_rate, method, start, instalments, apr)
