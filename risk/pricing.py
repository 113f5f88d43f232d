"""Limit and price from a grade: pure functions of the grade, the income and the product.

The APR cap is checked on one reference quote (`reference_apr`): a loan of 10,000 over the
product's longest allowed term, repaid by its first repayment method, starting on the decision's
business date. 10,000 is large enough that rounding interest to the cent hardly moves the APR,
and the longest term is the loan a line is most often drawn for. Interest runs on actual days,
so another term or start day may quote a few hundredths of a point apart; origination checks
every loan's own quote against the cap again. The APR shown with an offer is this quote's APR."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.utils.translation import gettext_noop

from lending.rules.schedule import quote_loan

from .errors import RiskError
from .models import Grade

# Limit = monthly income x this, by grade; E is declined.
LIMIT_MULTIPLES = {Grade.A: Decimal(6), Grade.B: Decimal(4), Grade.C: Decimal(3),
                   Grade.D: Decimal("1.5")}
# Where each grade's daily rate sits in the product's band: A at the minimum, E at the maximum
# (E is never offered; it anchors the straight line).
BAND_POSITIONS = {Grade.A: Decimal(0), Grade.B: Decimal("0.25"), Grade.C: Decimal("0.5"),
                  Grade.D: Decimal("0.75"), Grade.E: Decimal(1)}
LIMIT_STEP = Decimal(100)
RATE_STEP = Decimal("0.00000001")  # the rate field's 8 decimals
REFERENCE_PRINCIPAL = Decimal("10000.00")

# Marked for translation only: a decision translates its reasons (risk.services.decisions).
INCOME_TOO_LOW = gettext_noop("Your monthly income is too low for the smallest amount we lend.")
RISK_TOO_HIGH = gettext_noop("Your overall risk score is above what we can approve today.")
APR_CAP_UNREACHABLE = gettext_noop("We cannot offer this product at a price within its maximum "
                                   "APR at the moment.")


class PricingDeclined(Exception):
    """No offer can be made; the message is the reason the customer reads."""


@dataclass(frozen=True)
class Offer:
    credit_limit: Decimal
    daily_rate: Decimal
    apr: Decimal


def credit_limit_for(grade: str, monthly_income: Decimal, *, min_amount: Decimal,
                     max_amount: Decimal) -> Decimal:
    """Income x the grade's multiple, rounded down to 100, at most `max_amount`; below
    `min_amount` there is nothing to offer."""
    if grade not in LIMIT_MULTIPLES:
        raise PricingDeclined(RISK_TOO_HIGH)
    limit = ((monthly_income * LIMIT_MULTIPLES[grade]) / LIMIT_STEP).to_integral_value(
        ROUND_DOWN) * LIMIT_STEP
    if limit < min_amount:
        raise PricingDeclined(INCOME_TOO_LOW)
    return min(limit, max_amount).quantize(Decimal("0.01"))


def band_rate(grade: str, *, min_daily_rate: Decimal, max_daily_rate: Decimal) -> Decimal:
    """The grade's place on the straight line from the band's minimum to its maximum."""
    rate = min_daily_rate + (max_daily_rate - min_daily_rate) * BAND_POSITIONS[grade]
    return rate.quantize(RATE_STEP, ROUND_HALF_UP)


def reference_terms(product) -> tuple[int, str]:
    """(longest allowed term, first repayment method) of the product."""
    if not product.allowed_terms or not product.repayment_methods:
        raise RiskError(f"Product {product.code} has no terms or repayment methods to price.")
    return max(product.allowed_terms), product.repayment_methods[0]


@lru_cache(maxsize=4096)
def reference_apr(daily_rate: Decimal, term_months: int, method: str, start: date) -> Decimal:
    """The reference quote's APR; cached because the decision asks the same few rates all day."""
    return quote_loan(principal=REFERENCE_PRINCIPAL, term_months=term_months,
                      daily_rate=daily_rate, method=method, start=start).apr


@lru_cache(maxsize=1024)
def rate_within_cap(rate: Decimal, min_daily_rate: Decimal, apr_cap: Decimal, term_months: int,
                    method: str, start: date) -> tuple[Decimal, Decimal]:
    """(rate, APR): `rate` if its reference APR is within the cap, else the highest rate of
    8 decimals between the band's minimum and `rate` that is (the APR only grows with the rate,
    so a bisection finds it). `PricingDeclined` when even the minimum breaks the cap."""
    apr = reference_apr(rate, term_months, method, start)
    if apr <= apr_cap:
        return rate.quantize(RATE_STEP), apr
    low = min_daily_rate
    low_apr = reference_apr(low, term_months, method, start)
    if low_apr > apr_cap:
        raise PricingDeclined(APR_CAP_UNREACHABLE)
    # Invariant: APR(low) <= cap < APR(high), in whole steps of the rate field.
    high = rate
    while high - low > RATE_STEP:
        middle = (low + (high - low) / 2).quantize(RATE_STEP, ROUND_DOWN)
        middle_apr = reference_apr(middle, term_months, method, start)
        if middle_apr <= apr_cap:
            low, low_apr = middle, middle_apr
        else:
            high = middle
    return low.quantize(RATE_STEP), low_apr


def offer_for(grade: str, monthly_income: Decimal, product, start: date) -> Offer:
    """The limit, daily rate and APR for this grade and income; `PricingDeclined` if none."""
    limit = credit_limit_for(grade, monthly_income, min_amount=product.min_amount,
                             max_amount=product.max_amount)
    rate = band_rate(grade, min_daily_rate=product.min_daily_rate,
                     max_daily_rate=product.max_daily_rate)
    term, method = reference_terms(product)
    rate, apr = rate_within_cap(rate, product.min_daily_rate, product.apr_cap, term, method,
                                start)
    return Offer(credit_limit=limit, daily_rate=rate, apr=apr)
