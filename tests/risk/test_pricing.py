"""Limit and price from a grade: the income multiples, rounding and the product's bounds, the
rate's place in the band, and the APR cap on the reference quote."""

from datetime import date
from decimal import Decimal

import pytest

from lending.models import CreditProduct
from lending.rules.schedule import quote_loan
from risk.pricing import (
    APR_CAP_UNREACHABLE,
    INCOME_TOO_LOW,
    RISK_TOO_HIGH,
    PricingDeclined,
    band_rate,
    credit_limit_for,
    offer_for,
    reference_terms,
)

START = date(2026, 3, 10)


def product(**overrides):
    fields = {"code": "cash", "min_daily_rate": Decimal("0.00020000"),
              "max_daily_rate": Decimal("0.00060000"), "allowed_terms": [3, 6, 12],
              "repayment_methods": ["equal_instalment", "equal_principal"],
              "min_amount": Decimal("500.00"), "max_amount": Decimal("200000.00"),
              "apr_cap": Decimal("24.00"), **overrides}
    return CreditProduct(**fields)


def reference_apr_of(rate, p=None):
    p = p or product()
    return quote_loan(principal=Decimal("10000.00"), term_months=max(p.allowed_terms),
                      daily_rate=rate, method=p.repayment_methods[0], start=START).apr


BOUNDS = {"min_amount": Decimal("500.00"), "max_amount": Decimal("200000.00")}


@pytest.mark.parametrize("grade, income, limit", [
    ("A", Decimal("10000.00"), Decimal("60000.00")),
    ("B", Decimal("10000.00"), Decimal("40000.00")),
    ("C", Decimal("10000.00"), Decimal("30000.00")),
    ("D", Decimal("10000.00"), Decimal("15000.00")),
    # Rounded down to a whole hundred: 3 x 8,333.33 = 24,999.99.
    ("C", Decimal("8333.33"), Decimal("24900.00")),
    ("D", Decimal("8333.33"), Decimal("12400.00")),
    # Capped at the product's largest amount.
    ("A", Decimal("40000.00"), Decimal("200000.00")),
    ("A", Decimal("33333.34"), Decimal("200000.00")),
    ("A", Decimal("33333.33"), Decimal("199900.00")),
    # The smallest amount exactly is offered.
    ("D", Decimal("333.34"), Decimal("500.00")),
    ("A", Decimal("83.34"), Decimal("500.00")),
])
def test_limit_is_income_times_the_grade_multiple_rounded_down_and_capped(grade, income, limit):
    assert credit_limit_for(grade, income, **BOUNDS) == limit


@pytest.mark.parametrize("grade, income", [
    ("D", Decimal("333.33")),   # 499.995 -> 400 after rounding down
    ("A", Decimal("83.33")),    # 499.98 -> 400
    ("B", Decimal("0.00")),
])
def test_below_the_smallest_amount_is_declined_for_income(grade, income):
    with pytest.raises(PricingDeclined) as declined:
        credit_limit_for(grade, income, **BOUNDS)
    assert str(declined.value) == INCOME_TOO_LOW
    assert "too low for the smallest amount" in INCOME_TOO_LOW


def test_grade_e_gets_no_limit():
    with pytest.raises(PricingDeclined, match=RISK_TOO_HIGH):
        credit_limit_for("E", Decimal("50000.00"), **BOUNDS)


@pytest.mark.parametrize("grade, rate", [
    ("A", Decimal("0.00020000")), ("B", Decimal("0.00030000")), ("C", Decimal("0.00040000")),
    ("D", Decimal("0.00050000")), ("E", Decimal("0.00060000")),
])
def test_rates_lie_on_a_line_across_the_band(grade, rate):
    assert band_rate(grade, min_daily_rate=Decimal("0.0002"),
                     max_daily_rate=Decimal("0.0006")) == rate


def test_band_rates_are_rounded_to_the_rate_fields_eight_decimals():
    rate = band_rate("B", min_daily_rate=Decimal("0.00020001"),
                     max_daily_rate=Decimal("0.00060000"))
    # 0.00020001 + 0.25 x 0.00039999 = 0.0003000075 -> half-up
    assert rate == Decimal("0.00030001")
    assert rate.as_tuple().exponent == -8


def test_the_reference_quote_is_the_longest_term_and_the_first_method():
    assert reference_terms(product(allowed_terms=[6, 12, 3],
                                   repayment_methods=["interest_first", "equal_instalment"])
                           ) == (12, "interest_first")


@pytest.mark.parametrize("grade", ["A", "B", "C", "D"])
def test_an_uncapped_offer_keeps_the_band_rate_and_shows_the_reference_apr(grade):
    p = product()
    offer = offer_for(grade, Decimal("10000.00"), p, START)
    assert offer.daily_rate == band_rate(grade, min_daily_rate=p.min_daily_rate,
                                         max_daily_rate=p.max_daily_rate)
    assert p.min_daily_rate <= offer.daily_rate <= p.max_daily_rate
    assert offer.apr == reference_apr_of(offer.daily_rate)
    assert offer.apr <= p.apr_cap


def test_a_cap_below_the_grade_rate_lowers_the_rate_to_the_highest_within_the_cap():
    # D's band rate 0.0005 a day quotes about 18 %; a 15 % cap forces it down.
    p = product(apr_cap=Decimal("15.00"))
    band = band_rate("D", min_daily_rate=p.min_daily_rate, max_daily_rate=p.max_daily_rate)
    assert reference_apr_of(band) > p.apr_cap
    offer = offer_for("D", Decimal("10000.00"), p, START)
    assert p.min_daily_rate <= offer.daily_rate < band
    assert offer.apr == reference_apr_of(offer.daily_rate) <= p.apr_cap
    # The highest such rate: one step of the rate field more breaks the cap.
    assert reference_apr_of(offer.daily_rate + Decimal("0.00000001")) > p.apr_cap
    assert offer.daily_rate.as_tuple().exponent == -8


def test_a_better_grade_is_never_priced_above_a_worse_one_under_a_cap():
    p = product(apr_cap=Decimal("12.00"))
    rates = [offer_for(g, Decimal("10000.00"), p, START).daily_rate for g in "ABCD"]
    assert rates == sorted(rates)
    assert all(reference_apr_of(r) <= p.apr_cap for r in rates)


def test_a_cap_that_even_the_band_minimum_breaks_declines():
    p = product(apr_cap=Decimal("5.00"))
    assert reference_apr_of(p.min_daily_rate) > p.apr_cap
    with pytest.raises(PricingDeclined) as declined:
        offer_for("A", Decimal("10000.00"), p, START)
    assert str(declined.value) == APR_CAP_UNREACHABLE


def test_a_cap_equal_to_the_reference_apr_is_allowed():
    p = product()
    rate = band_rate("C", min_daily_rate=p.min_daily_rate, max_daily_rate=p.max_daily_rate)
    exact_cap = reference_apr_of(rate)
    offer = offer_for("C", Decimal("10000.00"), product(apr_cap=exact_cap), START)
    assert (offer.daily_rate, offer.apr) == (rate, exact_cap)
