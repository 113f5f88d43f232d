"""Nightly B-card rescoring: what a line's new score means for its limit and its price, as one
pure function (`line_review`) with every rule and threshold in this module.

The caller (the nightly close) scores each active line's customer with the B-card, builds a
`LineReviewInput`, and acts on the `LineReview`: it lowers or raises the limit and sets the
daily rate for new draws through the lending services, and records each change with the model
version and probability, an audit event and a notice carrying the reasons below. Nothing here
reads or writes the database.

The rules, as a lender applies them:

Limit. The target is what the grade and the monthly income as at application support, by the
same arithmetic as an offer (`risk.pricing.credit_limit_for`: income x the grade's multiple,
rounded down to 100, at most the product's maximum).
- Lowered when the target is more than `LOWER_THRESHOLD` (10 %) below the current limit: to the
  target, but never below what is drawn (the outstanding principal rounded up to `LIMIT_STEP`),
  and never above the current limit. Nothing already drawn is touched: available may reach
  zero, the loans and their repayments stay as they are.
- No limit supported (grade E, which an application declines, or an income too low for the
  product's smallest amount at the new grade): the target is zero and the limit is lowered to
  exactly the outstanding principal, so nothing is available; the line stays open, and is not
  closed or frozen here.
- Raised toward the target, by at most the larger of `RAISE_SHARE` (20 %) of the current limit
  and the product's smallest amount (at least one `LIMIT_STEP`), rounded down to `LIMIT_STEP`,
  only when the customer has `RAISE_MIN_MONTHS_ON_BOOK` (3) months on book, no day past due in
  the last six months and no raise in the last `RAISE_INTERVAL_DAYS` (90) days; never above the
  product's maximum nor an officer's cap while it holds.

Price. The daily rate for new draws is the grade's place in the product's band
(`risk.pricing.band_rate`), stepped down until the reference quote's APR is within the
product's cap (`risk.pricing.rate_within_cap`), exactly as an offer is priced. Loans already
drawn keep their rate; that is not this function's concern. Grade E is never priced (it is
declined at application), so an E line keeps its rate while its limit goes to what is drawn.

Every change carries a short code and a sentence the customer reads (`Reason`); what the rules
found without changing anything (a raise held back, a price the cap makes impossible) is listed
as codes in `LineReview.findings` for the audit record only."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from core.money import CENT

from .models import Grade
from .pricing import (
    LIMIT_STEP,
    PricingDeclined,
    band_rate,
    credit_limit_for,
    rate_within_cap,
    reference_terms,
)

# Lower the limit when the grade's target is more than this share of the current limit below
# it (target < 90 % of the limit). A target at most 10 % below leaves the limit alone: small
# moves are not worth a notice, and a customer's limit does not twitch with every rescoring.
LOWER_THRESHOLD = Decimal("0.10")
# A raise is at most this share of the current limit (20 %), or the product's smallest amount
# when that is more (and never less than one LIMIT_STEP), so that a line cut to zero can come
# back to a limit a loan can be drawn on. A limit grows step by step, as the customer keeps
# repaying, instead of jumping to the target in one night.
RAISE_SHARE = Decimal("0.20")
# A raise needs at least three whole months on book (the B-card's `months_on_book`: since the
# customer's first line opened) ...
RAISE_MIN_MONTHS_ON_BOOK = 3
# ... no day past due in the last six months (the B-card's `worst_dpd_6m` at most this) ...
RAISE_MAX_WORST_DPD_6M = 0
# ... and at least this many days since the line's last raise (of any kind: an accepted offer,
# an officer's or this review's): one raise a quarter at most.
RAISE_INTERVAL_DAYS = 90

# Checked for every line every night: the enum's `values` builds a new list each time.
_GRADES = frozenset(Grade.values)

# Reason codes: one per change, each with a sentence for the customer.
LIMIT_LOWERED = "limit_lowered"
LIMIT_LOWERED_TO_DRAWN = "limit_lowered_to_drawn"
LIMIT_RAISED = "limit_raised"
RATE_LOWERED = "rate_lowered"
RATE_RAISED = "rate_raised"

# Findings: what the rules saw without (or besides) a change, for the audit record only.
NO_LIMIT_FOR_GRADE = "no_limit_for_grade"  # grade E: the target is zero
NO_LIMIT_FOR_INCOME = "no_limit_for_income"  # income too low for the smallest amount
LOWER_WITHIN_THRESHOLD = "lower_within_threshold"  # target below the limit, by 10 % or less
LOWER_HELD_BY_DRAWN = "lower_held_by_drawn"  # what is drawn keeps the limit where it is
RAISE_HELD_MONTHS_ON_BOOK = "raise_held_months_on_book"
RAISE_HELD_PAST_DUE = "raise_held_past_due"
RAISE_HELD_RECENT_RAISE = "raise_held_recent_raise"
RAISE_HELD_OFFICER_CAP = "raise_held_officer_cap"
PRICE_HELD_DECLINED_GRADE = "price_held_declined_grade"  # grade E keeps the line's rate
PRICE_HELD_APR_CAP_UNREACHABLE = "price_held_apr_cap_unreachable"  # even the band's minimum
# breaks the cap: the rate stays, and origination refuses draws whose quote breaks the cap


@dataclass(frozen=True)
class ProductTerms:
    """The product's bounds as pricing needs them."""

    min_amount: Decimal
    max_amount: Decimal
    min_daily_rate: Decimal
    max_daily_rate: Decimal
    apr_cap: Decimal
    # The reference quote's terms (`risk.pricing.reference_terms`): the longest allowed term
    # and the first repayment method.
    reference_term_months: int
    reference_method: str

    @classmethod
    def of(cls, product) -> "ProductTerms":
        """From a `lending.CreditProduct` (reads its fields, no query)."""
        term, method = reference_terms(product)
        return cls(min_amount=product.min_amount, max_amount=product.max_amount,
                   min_daily_rate=product.min_daily_rate, max_daily_rate=product.max_daily_rate,
                   apr_cap=product.apr_cap, reference_term_months=term, reference_method=method)

    def __post_init__(self):
        _decimals(self, "min_amount", "max_amount", "min_daily_rate", "max_daily_rate",
                  "apr_cap")
        if not 0 <= self.min_amount <= self.max_amount:
            raise ValueError("The product's amounts must satisfy 0 <= min_amount <= max_amount.")
        if not 0 < self.min_daily_rate <= self.max_daily_rate:
            raise ValueError("The product's band must satisfy 0 < min <= max daily rate.")


@dataclass(frozen=True)
class LineReviewInput:
    """One active line as the nightly rescoring sees it, at the close of `business_date`."""

    current_limit: Decimal
    outstanding_principal: Decimal
    current_daily_rate: Decimal
    # The B-card's grade and calibrated probability of default for the line's customer; the
    # probability is carried for the record, the rules read the grade.
    grade: str
    probability: Decimal
    # The monthly income the application's decision used (`CreditDecision.income_used`).
    monthly_income: Decimal
    product: ProductTerms
    # The customer's history as the B-card's features count it for `business_date`
    # (`risk.features.behaviour`): whole months since the first line opened, and the most days
    # past due any instalment reached within the last six months.
    months_on_book: int
    worst_dpd_6m: int
    # The business date of the line's last raise (a LimitChange with new_limit > old_limit),
    # None if never raised.
    last_raise_on: date | None
    # An officer's cap on the line while it holds, None when none does.
    officer_cap: Decimal | None
    business_date: date

    def __post_init__(self):
        _decimals(self, "current_limit", "outstanding_principal", "current_daily_rate",
                  "probability", "monthly_income")
        if self.officer_cap is not None:
            _decimals(self, "officer_cap")
        if self.grade not in _GRADES:
            raise ValueError(f"Unknown grade {self.grade!r}.")
        if self.current_limit < 0 or self.outstanding_principal < 0 or self.monthly_income < 0:
            raise ValueError("Limits, balances and incomes are never negative.")
        if not 0 <= self.probability <= 1:
            raise ValueError("A probability lies between 0 and 1.")
        if self.months_on_book < 0 or self.worst_dpd_6m < 0:
            raise ValueError("Months on book and days past due are never negative.")
        if self.officer_cap is not None and self.current_limit > self.officer_cap:
            # The database refuses it (line_limit_within_officer_cap): the input is not a line.
            raise ValueError("A line's limit is never above its officer's cap.")


@dataclass(frozen=True)
class Reason:
    code: str
    # What the customer reads: the English sentence with %(name)s placeholders, marked for
    # translation, and the figures that fill them.
    message: str
    figures: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        """The sentence in the active language: English in the close's records; each
        customer's notice is written in theirs (risk.services.rescoring)."""
        return gettext(self.message) % dict(self.figures)


@dataclass(frozen=True)
class LineReview:
    """What to do with the line: a new limit and/or daily rate (None: unchanged), each with its
    reason. `target_limit` is what the grade and income support (zero: nothing), and
    `new_apr` the new rate's reference APR, to show with it."""

    target_limit: Decimal
    new_limit: Decimal | None = None
    new_daily_rate: Decimal | None = None
    new_apr: Decimal | None = None
    reasons: tuple[Reason, ...] = ()
    findings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.new_limit is not None or self.new_daily_rate is not None

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def reason_texts(self) -> tuple[str, ...]:
        return tuple(r.text for r in self.reasons)


def line_review(inputs: LineReviewInput) -> LineReview:
    """The line's new limit and daily rate for new draws after tonight's rescoring, with the
    reasons; None where nothing changes."""
    findings: list[str] = []
    target = _target_limit(inputs, findings)
    new_limit, limit_reason = _limit(inputs, target, findings)
    new_rate, new_apr, rate_reason = _price(inputs, findings)
    return LineReview(target_limit=target, new_limit=new_limit, new_daily_rate=new_rate,
                      new_apr=new_apr,
                      reasons=tuple(r for r in (limit_reason, rate_reason) if r is not None),
                      findings=tuple(findings))


def _target_limit(inputs: LineReviewInput, findings: list[str]) -> Decimal:
    """What the grade and the income support, by an offer's arithmetic; zero for grade E or an
    income too low for the product's smallest amount at this grade."""
    product = inputs.product
    try:
        return credit_limit_for(inputs.grade, inputs.monthly_income,
                                min_amount=product.min_amount, max_amount=product.max_amount)
    except PricingDeclined:
        findings.append(NO_LIMIT_FOR_GRADE if inputs.grade == Grade.E else NO_LIMIT_FOR_INCOME)
        return Decimal("0.00")


def _limit(inputs: LineReviewInput, target: Decimal,
           findings: list[str]) -> tuple[Decimal | None, Reason | None]:
    current = inputs.current_limit
    if target < current:
        return _lower(inputs, target, findings)
    if target > current:
        return _raise(inputs, target, findings)
    return None, None


def _lower(inputs: LineReviewInput, target: Decimal,
           findings: list[str]) -> tuple[Decimal | None, Reason | None]:
    current, drawn = inputs.current_limit, inputs.outstanding_principal
    if target > 0 and target >= current * (1 - LOWER_THRESHOLD):
        findings.append(LOWER_WITHIN_THRESHOLD)
        return None, None
    if target > 0:
        # Never below what is drawn, kept on the limit grid.
        new, code = max(target, _round_up_to_step(drawn)), LIMIT_LOWERED
    else:
        # Nothing more may be lent: the limit is what is drawn, to the cent.
        new, code = drawn.quantize(CENT), LIMIT_LOWERED_TO_DRAWN
    # A lowering never raises (a limit an officer set below what is drawn stays).
    new = min(new, current)
    if new >= current:
        findings.append(LOWER_HELD_BY_DRAWN)
        return None, None
    if code == LIMIT_LOWERED:
        message = gettext_noop(
            "After our regular review of your account, we have lowered your credit limit from "
            "%(old)s to %(new)s. The loans you have already drawn and their repayments do not "
            "change.")
    else:
        message = gettext_noop(
            "After our regular review of your account, we cannot lend you more for now, so we "
            "have lowered your credit limit from %(old)s to %(new)s, the amount you have drawn. "
            "Your line stays open, and the loans you have drawn and their repayments do not "
            "change.")
    return new, Reason(code, message, (("old", _money(current)), ("new", _money(new))))


def _raise(inputs: LineReviewInput, target: Decimal,
           findings: list[str]) -> tuple[Decimal | None, Reason | None]:
    current, product = inputs.current_limit, inputs.product
    held = []
    # (The product's maximum needs no check of its own: the target is never above it.)
    if inputs.officer_cap is not None and inputs.officer_cap <= current:
        held.append(RAISE_HELD_OFFICER_CAP)
    if inputs.months_on_book < RAISE_MIN_MONTHS_ON_BOOK:
        held.append(RAISE_HELD_MONTHS_ON_BOOK)
    if inputs.worst_dpd_6m > RAISE_MAX_WORST_DPD_6M:
        held.append(RAISE_HELD_PAST_DUE)
    if (inputs.last_raise_on is not None
            and (inputs.business_date - inputs.last_raise_on).days < RAISE_INTERVAL_DAYS):
        held.append(RAISE_HELD_RECENT_RAISE)
    if held:
        findings.extend(held)
        return None, None
    step = max(current * RAISE_SHARE, product.min_amount, LIMIT_STEP)
    new = min(target, _round_down_to_step(current + step), product.max_amount)
    if inputs.officer_cap is not None:
        new = min(new, inputs.officer_cap)
    new = new.quantize(CENT)
    if new <= current:
        # Cannot happen with amounts in cents: the step is at least LIMIT_STEP, and the target,
        # the product's maximum and the cap are all above the current limit here.
        return None, None
    return new, Reason(LIMIT_RAISED, gettext_noop(
        "Thanks to your record of repaying on time, we have raised your credit limit from "
        "%(old)s to %(new)s."), (("old", _money(current)), ("new", _money(new))))


def _price(inputs: LineReviewInput, findings: list[str]
           ) -> tuple[Decimal | None, Decimal | None, Reason | None]:
    if inputs.grade == Grade.E:
        findings.append(PRICE_HELD_DECLINED_GRADE)
        return None, None, None
    priced = grade_price(inputs.grade, inputs.product, inputs.business_date)
    if priced is None:
        findings.append(PRICE_HELD_APR_CAP_UNREACHABLE)
        return None, None, None
    rate, apr = priced
    current = inputs.current_daily_rate
    if rate == current:
        return None, None, None
    if rate < current:
        code = RATE_LOWERED
        message = gettext_noop(
            "After our regular review of your account, the daily interest rate for new loans on "
            "your line is now %(rate)s%% a day (APR %(apr)s%%), down from %(old)s%% a day. The "
            "loans you have already drawn keep their rate.")
    else:
        code = RATE_RAISED
        message = gettext_noop(
            "After our regular review of your account, the daily interest rate for new loans on "
            "your line is now %(rate)s%% a day (APR %(apr)s%%), up from %(old)s%% a day. The "
            "loans you have already drawn keep their rate.")
    return rate, apr, Reason(code, message, (("rate", _percent(rate)), ("apr", f"{apr:.2f}"),
                                             ("old", _percent(current))))


@lru_cache(maxsize=1024)
def grade_price(grade: str, product: ProductTerms,
                 business_date: date) -> tuple[Decimal, Decimal] | None:
    """The grade's daily rate within the APR cap and its reference APR, None when even the
    band's minimum breaks the cap. The same for every line of a grade and product on a night,
    and a reference quote costs a schedule: worked out once, not once per line."""
    rate = band_rate(grade, min_daily_rate=product.min_daily_rate,
                     max_daily_rate=product.max_daily_rate)
    try:
        return rate_within_cap(rate, product.min_daily_rate, product.apr_cap,
                               product.reference_term_months, product.reference_method,
                               business_date)
    except PricingDeclined:
        return None


def _round_up_to_step(amount: Decimal) -> Decimal:
    return ((amount / LIMIT_STEP).to_integral_value(ROUND_CEILING) * LIMIT_STEP).quantize(CENT)


def _round_down_to_step(amount: Decimal) -> Decimal:
    return ((amount / LIMIT_STEP).to_integral_value(ROUND_DOWN) * LIMIT_STEP).quantize(CENT)


def _money(amount: Decimal) -> str:
    return f"{settings.CURRENCY} {amount:,.2f}"


def _percent(rate: Decimal) -> str:
    """A daily rate in percent, as many decimals as it has: 0.00030000 -> 0.03."""
    return f"{(rate * 100).normalize():f}"


def _decimals(obj, *names):
    for name in names:
        if not isinstance(getattr(obj, name), Decimal):
            raise TypeError(f"{name} must be a Decimal.")
