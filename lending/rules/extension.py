"""Term extension (展期): the one quote both the officer's preview and the booking use. Pure: no
database (lending/services/extension.py reads the loan and books the quote).

The rules, for a loan extended by `extra_months` on business date D:

- Only an active loan with principal outstanding is extended.
- 1 to the product's `max_extension_months` extra months; the new term (months from the
  disbursement to the new last due date) at most the product's longest allowed term.
- The daily rate stays, or is lowered but not below the product's `min_daily_rate`; it is
  never raised. (The line's rate for new draws is not touched.)
- Replaced: every row of the live schedule except those due by D and paid in full, i.e. every
  unpaid row due by D and every period not yet due (even one paid ahead). The service settles
  them out as "superseded"; nothing is deleted.
- The outstanding principal is re-spread by the loan's repayment method
  (`schedule.build_schedule`) over n = (replaced periods not yet due and not paid) + extra_months
  periods, from the period start of the next instalment to fall due: its first instalment falls
  on the loan's next due date after D (due dates stay on the disbursement's day of month) and
  carries that period's interest on the whole outstanding principal. When an early repayment
  in that period settled its interest up to a day S, the period starts at S instead: the days
  before S were charged (and are carried over below, if unpaid), never twice.
- Interest, fees and penalty owed on the replaced rows (all that is unpaid of the rows due by
  D and of a row an earlier extension carried over, and the current period's interest charged
  up to S and not paid) are carried over to one row due on the first new due date: still owed
  (a payment settles them first, and a waiver can lower the penalty), but no longer overdue,
  so the loan is current after the extension. Their interest already booked as receivable is
  reversed (`interest_reversed`) and booked again by the close when the row falls due, like
  any interest, so interest receivable only ever holds interest fallen due; penalty stays
  receivable.
- New APR = IRR(-outstanding principal, new instalment totals) x 12 (`annual_percentage_rate`,
  the carried row left out: it is not credit for the new term), refused above the product's
  `apr_cap`.

`ExtensionQuote.fingerprint` is a sha256 of the quote's canonical form: the preview sends it
back with the booking, and a booking whose quote, recomputed under the loan's lock, differs is
refused, so what is booked is exactly what was shown."""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..errors import ExtensionRefused
from ..models import InstalmentStatus, LoanStatus
from .allocation import ZERO
from .schedule import (
    ScheduledInstalment,
    add_months_anchored,
    annual_percentage_rate,
    build_schedule,
    period_interest,
)

# Far beyond any term: how many months on from a disbursement the next due date is looked for.
_MONTHS_SEARCHED = 1000


@dataclass(frozen=True)
class ReplacedRow:
    """A row of the live schedule the extension replaces, as it stands."""

    seq: int
    due_date: date
    status: str
    principal_due: Decimal
    interest_due: Decimal
    fee_due: Decimal
    penalty_due: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    fee_paid: Decimal
    penalty_paid: Decimal

    @property
    def paid(self):
        return self.principal_paid + self.interest_paid + self.fee_paid + self.penalty_paid

    @property
    def remaining(self):
        return (self.principal_due + self.interest_due + self.fee_due + self.penalty_due
                - self.principal_paid - self.interest_paid - self.fee_paid - self.penalty_paid)

    def as_dict(self) -> dict:
        return {"seq": self.seq, "due_date": self.due_date.isoformat(), "status": self.status,
                **{name: str(getattr(self, name)) for name in (
                    "principal_due", "interest_due", "fee_due", "penalty_due", "principal_paid",
                    "interest_paid", "fee_paid", "penalty_paid")}}


@dataclass(frozen=True)
class ExtensionQuote:
    loan_id: int
    day: date
    extra_months: int
    method: str
    old_term_months: int
    new_term_months: int
    old_daily_rate: Decimal
    new_daily_rate: Decimal
    old_apr: Decimal
    new_apr: Decimal
    principal: Decimal
    start: date
    carried_interest: Decimal
    carried_fee: Decimal
    carried_penalty: Decimal
    interest_reversed: Decimal
    replaced: tuple[ReplacedRow, ...]
    instalments: tuple[ScheduledInstalment, ...]

    @property
    def first_due_date(self) -> date:
        return self.instalments[0].due_date

    @property
    def carried_total(self) -> Decimal:
        return self.carried_interest + self.carried_fee + self.carried_penalty

    @property
    def old_total(self) -> Decimal:
        """What the replaced rows still owe, as scheduled."""
        return sum((row.remaining for row in self.replaced), ZERO)

    @property
    def new_interest(self) -> Decimal:
        return sum((i.interest for i in self.instalments), ZERO)

    @property
    def new_total(self) -> Decimal:
        """What the new schedule asks for: the carried row and every new instalment."""
        return self.carried_total + self.principal + self.new_interest

    def as_dict(self) -> dict:
        """The canonical form: stored on the extension and hashed into the fingerprint."""
        return {
            "loan": self.loan_id, "day": self.day.isoformat(), "extra_months": self.extra_months,
            "method": self.method, "old_term_months": self.old_term_months,
            "new_term_months": self.new_term_months,
            "old_daily_rate": str(self.old_daily_rate), "new_daily_rate": str(self.new_daily_rate),
            "old_apr": str(self.old_apr), "new_apr": str(self.new_apr),
            "principal": str(self.principal), "start": self.start.isoformat(),
            "carried_interest": str(self.carried_interest),
            "carried_fee": str(self.carried_fee), "carried_penalty": str(self.carried_penalty),
            "interest_reversed": str(self.interest_reversed),
            "replaced": [row.as_dict() for row in self.replaced],
            "instalments": [{"due_date": i.due_date.isoformat(),
                             "period_start": i.period_start.isoformat(), "days": i.days,
                             "principal": str(i.principal), "interest": str(i.interest)}
                            for i in self.instalments],
        }

    @property
    def fingerprint(self) -> str:
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _replaced_rows(instalments, day):
    """The live rows the extension replaces (see the module's rules), oldest first."""
    live = [i for i in instalments if i.status != InstalmentStatus.SUPERSEDED]
    return [i for i in sorted(live, key=lambda i: i.seq)
            if i.due_date > day or i.status != InstalmentStatus.PAID]


def _owed_already(instalment, day) -> bool:
    """Due by `day`, or a row an earlier extension carried over: its interest is not a
    period's, so it is carried over again, never re-priced."""
    return instalment.due_date <= day or getattr(instalment, "carried", False)


def _next_due_index(disbursed_on: date, day: date) -> int:
    """k of the loan's first due date after `day`: add_months_anchored(disbursed_on, k)."""
    for k in range(1, _MONTHS_SEARCHED):
        if add_months_anchored(disbursed_on, k) > day:
            return k
    raise ExtensionRefused("This loan's next due date is too far off to extend it.")


def _interest_charged_before(head, future_principal, daily_rate, day):
    """The current period's interest charged up to an early repayment's day S and not paid
    (`allocation._interest_to_date` reads it back the same way), and S; (0, None) when no
    early repayment settled the period."""
    since = head.interest_settled_to
    if since is None or since > day:
        return ZERO, None
    charged = head.interest_due - period_interest(future_principal, daily_rate,
                                                  (head.due_date - since).days)
    return max(charged - head.interest_paid, ZERO), since


def _checked_rate(loan, product, daily_rate) -> Decimal:
    rate = loan.daily_rate if daily_rate is None else Decimal(daily_rate)
    if rate > loan.daily_rate:
        raise ExtensionRefused(f"The daily rate may stay at {loan.daily_rate} or be lowered; an "
                               f"extension never raises it (asked: {rate}).")
    if rate < product.min_daily_rate:
        raise ExtensionRefused(f"The daily rate cannot go below this product's minimum of "
                               f"{product.min_daily_rate} (asked: {rate}).")
    return rate


def extension_quote(*, loan, product, instalments, extra_months, day: date,
                    daily_rate=None) -> ExtensionQuote:
    """The quote for extending `loan` by `extra_months` on `day`, at `daily_rate` (None: the
    loan's own). `loan`, `product` and `instalments` are models or any objects with their
    fields; `instalments` are all the loan's rows. Raises ExtensionRefused with a message for
    the officer when the rules say no."""
    if loan.status != LoanStatus.ACTIVE:
        raise ExtensionRefused(f"Only an active loan can be extended; this one is "
                               f"{LoanStatus(loan.status).label.lower()}.")
    most = product.max_extension_months
    if (isinstance(extra_months, bool) or not isinstance(extra_months, int)
            or not 1 <= extra_months <= most):
        raise ExtensionRefused(f"An extension adds a whole number of months from 1 to {most} "
                               f"(this product's most).")
    rate = _checked_rate(loan, product, daily_rate)
    rows = _replaced_rows(instalments, day)
    principal = sum((i.principal_due - i.principal_paid for i in rows), ZERO)
    if principal <= 0:
        raise ExtensionRefused("No principal is outstanding on this loan: there is nothing to "
                               "spread over a longer term.")
    if principal != loan.outstanding_principal:
        raise RuntimeError(f"loan {loan.pk}: its schedule owes {principal} of principal, the "
                           f"loan {loan.outstanding_principal}")

    past = [i for i in rows if _owed_already(i, day)]
    future = [i for i in rows if not _owed_already(i, day)]
    k = _next_due_index(loan.disbursed_on, day)
    start = add_months_anchored(loan.disbursed_on, k - 1)
    carried_interest = sum((i.interest_due - i.interest_paid for i in past), ZERO)
    if future and future[0].due_date == add_months_anchored(loan.disbursed_on, k):
        unpaid_before, settled_to = _interest_charged_before(
            future[0], sum((i.principal_due - i.principal_paid for i in future), ZERO),
            loan.daily_rate, day)
        carried_interest += unpaid_before
        if settled_to is not None:
            start = max(start, settled_to)

    periods = sum(1 for i in future if i.status != InstalmentStatus.PAID) + extra_months
    new_term = k - 1 + periods
    longest = max(product.allowed_terms)
    if new_term > longest:
        raise ExtensionRefused(
            f"The new term would be {new_term} months from the disbursement; this product "
            f"allows at most {longest}. Add at most {max(longest - new_term + extra_months, 0)} "
            f"months.")
    dates = [add_months_anchored(loan.disbursed_on, k + j) for j in range(periods)]
    schedule = build_schedule(principal, periods, rate, loan.method, start, dates)
    apr = annual_percentage_rate(principal, schedule)
    if apr > product.apr_cap:
        raise ExtensionRefused(f"The new APR of {apr}% is above this product's cap of "
                               f"{product.apr_cap}%.")
    return ExtensionQuote(
        loan_id=loan.pk, day=day, extra_months=extra_months, method=loan.method,
        old_term_months=loan.term_months, new_term_months=new_term,
        old_daily_rate=loan.daily_rate, new_daily_rate=rate, old_apr=loan.apr, new_apr=apr,
        principal=principal, start=start, carried_interest=carried_interest,
        carried_fee=sum((i.fee_due - i.fee_paid for i in rows), ZERO),
        carried_penalty=sum((i.penalty_due - i.penalty_paid for i in rows), ZERO),
        interest_reversed=sum((i.interest_due - i.interest_paid for i in past
                               if i.interest_accrued), ZERO),
        replaced=tuple(ReplacedRow(
            i.seq, i.due_date, i.status, i.principal_due, i.interest_due, i.fee_due,
            i.penalty_due, i.principal_paid, i.interest_paid, i.fee_paid, i.penalty_paid)
            for i in rows),
        instalments=schedule,
    )
