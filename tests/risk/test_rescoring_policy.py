"""Nightly rescoring's policy (`risk.rescoring_policy.line_review`): every limit and price rule
at its boundary, worked by hand. Pure: no database."""

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from lending.models import CreditProduct
from lending.rules.schedule import quote_loan
from risk.features.behaviour import BEHAVIOUR_FEATURES
from risk.pricing import band_rate, rate_within_cap
from risk.rescoring_policy import (
    LIMIT_LOWERED,
    LIMIT_LOWERED_TO_DRAWN,
    LIMIT_RAISED,
    LOWER_HELD_BY_DRAWN,
    LOWER_THRESHOLD,
    LOWER_WITHIN_THRESHOLD,
    NO_LIMIT_FOR_GRADE,
    NO_LIMIT_FOR_INCOME,
    PRICE_HELD_APR_CAP_UNREACHABLE,
    PRICE_HELD_DECLINED_GRADE,
    RAISE_HELD_MONTHS_ON_BOOK,
    RAISE_HELD_OFFICER_CAP,
    RAISE_HELD_PAST_DUE,
    RAISE_HELD_RECENT_RAISE,
    RAISE_INTERVAL_DAYS,
    RAISE_MAX_WORST_DPD_6M,
    RAISE_MIN_MONTHS_ON_BOOK,
    RAISE_SHARE,
    RATE_LOWERED,
    RATE_RAISED,
    LineReviewInput,
    ProductTerms,
    line_review,
)

TODAY = date(2026, 6, 30)
D = Decimal

# The band 0.0002-0.0006 a day: A 0.0002, B 0.0003, C 0.0004, D 0.0005 (E 0.0006, never
# priced). Under a 24 % cap none is stepped down (D's reference APR is about 18 %).
PRODUCT = ProductTerms(min_amount=D("500.00"), max_amount=D("200000.00"),
                       min_daily_rate=D("0.00020000"), max_daily_rate=D("0.00060000"),
                       apr_cap=D("24.00"), reference_term_months=12,
                       reference_method="equal_instalment")
RATES = {"A": D("0.00020000"), "B": D("0.00030000"), "C": D("0.00040000"),
         "D": D("0.00050000")}


def review_input(**overrides) -> LineReviewInput:
    """A customer eligible for a raise, priced at grade B, with a 40,000 line of which 10,000
    is drawn; income 10,000 (B's target 4 x 10,000 = 40,000: nothing to change)."""
    fields = {"current_limit": D("40000.00"), "outstanding_principal": D("10000.00"),
              "current_daily_rate": RATES["B"], "grade": "B", "probability": D("0.031200"),
              "monthly_income": D("10000.00"), "product": PRODUCT, "months_on_book": 12,
              "worst_dpd_6m": 0, "last_raise_on": None, "officer_cap": None,
              "business_date": TODAY, **overrides}
    return LineReviewInput(**fields)


def review(**overrides):
    return line_review(review_input(**overrides))


def money(amount: str) -> str:
    return f"{settings.CURRENCY} {D(amount):,.2f}"


def test_the_constants_are_the_documented_ones():
    assert (LOWER_THRESHOLD, RAISE_SHARE) == (D("0.10"), D("0.20"))
    assert (RAISE_MIN_MONTHS_ON_BOOK, RAISE_MAX_WORST_DPD_6M, RAISE_INTERVAL_DAYS) == (3, 0, 90)


def test_a_line_at_its_target_and_price_is_left_alone():
    result = review()
    assert result.target_limit == D("40000.00")
    assert (result.new_limit, result.new_daily_rate, result.reasons) == (None, None, ())
    assert not result.changed and result.findings == ()


# --- Lowering -------------------------------------------------------------------------------

def test_a_target_exactly_ten_percent_below_leaves_the_limit():
    # B at income 9,000: 4 x 9,000 = 36,000 = 40,000 x (1 - 0.10) exactly: not more than 10 %.
    result = review(monthly_income=D("9000.00"))
    assert result.target_limit == D("36000.00")
    assert result.new_limit is None
    assert result.findings == (LOWER_WITHIN_THRESHOLD,)


def test_a_target_a_cent_more_than_ten_percent_below_lowers_to_the_target():
    # A product whose maximum is now 35,999.99 (the line was opened under a higher one): B at
    # income 10,000 gives 40,000, capped at 35,999.99, one cent more than 10 % below 40,000.
    product = dataclasses.replace(PRODUCT, max_amount=D("35999.99"))
    result = review(product=product)
    assert result.target_limit == D("35999.99")
    assert result.new_limit == D("35999.99")
    assert result.reason_codes == (LIMIT_LOWERED,)


def test_a_target_on_the_grid_just_over_ten_percent_below_lowers_to_the_target():
    # B at income 8,999.99: 4 x 8,999.99 = 35,999.96 -> 35,900 (rounded down to 100), which is
    # 10.25 % below 40,000. Drawn 10,000 is below it, so the limit goes to the target.
    result = review(monthly_income=D("8999.99"))
    assert result.target_limit == D("35900.00")
    assert result.new_limit == D("35900.00")
    assert result.reason_codes == (LIMIT_LOWERED,)
    assert result.reason_texts[0] == (
        f"After our regular review of your account, we have lowered your credit limit from "
        f"{money('40000')} to {money('35900')}. The loans you have already drawn and their "
        f"repayments do not change.")


@pytest.mark.parametrize("drawn, new_limit", [
    (D("29999.99"), D("30000.00")),  # below the target: the target, 30,000
    (D("30000.00"), D("30000.00")),
    (D("30000.01"), D("30100.00")),  # drawn rounded up to 100
    (D("34567.89"), D("34600.00")),
    (D("39900.00"), D("39900.00")),
])
def test_a_lower_never_goes_below_what_is_drawn(drawn, new_limit):
    # Grade C at income 10,000: target 3 x 10,000 = 30,000, 25 % below the 40,000 limit.
    result = review(grade="C", current_daily_rate=RATES["C"], outstanding_principal=drawn)
    assert result.new_limit == new_limit >= drawn
    assert result.reason_codes == (LIMIT_LOWERED,)


@pytest.mark.parametrize("drawn", [D("39900.01"), D("40000.00"), D("45000.00")])
def test_a_lower_that_what_is_drawn_would_not_lower_changes_nothing(drawn):
    # 39,900.01 rounds up to 40,000, the limit itself; 45,000 is a limit an officer set below
    # what was drawn: the review never raises it back by "lowering".
    result = review(grade="C", current_daily_rate=RATES["C"], outstanding_principal=drawn,
                    current_limit=D("40000.00"))
    assert result.new_limit is None
    assert result.findings == (LOWER_HELD_BY_DRAWN,)


def test_grade_e_lowers_the_limit_to_exactly_what_is_drawn_and_keeps_the_rate():
    result = review(grade="E", probability=D("0.412000"),
                    outstanding_principal=D("12345.67"))
    assert result.target_limit == D("0.00")
    # Not rounded up: available is 40,000 -> 0 exactly. The line stays open.
    assert result.new_limit == D("12345.67")
    assert result.new_daily_rate is None  # E is never priced
    assert result.reason_codes == (LIMIT_LOWERED_TO_DRAWN,)
    assert result.reason_texts[0] == (
        f"After our regular review of your account, we cannot lend you more for now, so we have "
        f"lowered your credit limit from {money('40000')} to {money('12345.67')}, the amount "
        f"you have drawn. Your line stays open, and the loans you have drawn and their "
        f"repayments do not change.")
    assert result.findings == (NO_LIMIT_FOR_GRADE, PRICE_HELD_DECLINED_GRADE)


def test_grade_e_with_nothing_drawn_lowers_to_zero():
    assert review(grade="E", outstanding_principal=D("0.00")).new_limit == D("0.00")


def test_grade_e_on_a_line_with_nothing_available_changes_nothing():
    result = review(grade="E", outstanding_principal=D("40000.00"))
    assert not result.changed
    assert result.findings == (NO_LIMIT_FOR_GRADE, LOWER_HELD_BY_DRAWN, PRICE_HELD_DECLINED_GRADE)


def test_an_income_too_low_at_the_new_grade_is_treated_as_no_limit():
    # D at income 333.33: 1.5 x 333.33 = 499.995 -> 400, below the smallest amount 500.
    result = review(grade="D", monthly_income=D("333.33"), current_limit=D("1300.00"),
                    outstanding_principal=D("250.00"))
    assert result.target_limit == D("0.00")
    assert result.new_limit == D("250.00")
    # The grade is priced: D's band rate, up from B's.
    assert result.new_daily_rate == RATES["D"]
    assert result.reason_codes == (LIMIT_LOWERED_TO_DRAWN, RATE_RAISED)
    assert result.findings == (NO_LIMIT_FOR_INCOME,)


# --- Raising --------------------------------------------------------------------------------

def test_a_raise_goes_up_by_twenty_percent_at_most():
    # A at income 10,000: target 60,000. 40,000 + 20 % = 48,000.
    result = review(grade="A", current_daily_rate=RATES["A"])
    assert result.target_limit == D("60000.00")
    assert result.new_limit == D("48000.00")
    assert result.reason_codes == (LIMIT_RAISED,)
    assert result.reason_texts[0] == (
        f"Thanks to your record of repaying on time, we have raised your credit limit from "
        f"{money('40000')} to {money('48000')}.")


def test_a_raise_stops_at_the_target():
    # B at income 10,500: target 42,000 < 48,000.
    assert review(monthly_income=D("10500.00")).new_limit == D("42000.00")


@pytest.mark.parametrize("current, new_limit", [
    # 20 % of 1,000 is 200, less than the product's smallest amount 500: 1,000 + 500.
    (D("1000.00"), D("1500.00")),
    # A line cut to zero comes back to the smallest amount.
    (D("0.00"), D("500.00")),
    # 20 % of 2,500 = 500 exactly; 20 % of 3,000 = 600.
    (D("2500.00"), D("3000.00")),
    (D("3000.00"), D("3600.00")),
    # Off the grid (an officer's cut, since lifted): 1,234.56 + 500 = 1,734.56 -> 1,700.
    (D("1234.56"), D("1700.00")),
])
def test_the_raise_step_is_twenty_percent_or_the_smallest_amount(current, new_limit):
    result = review(grade="A", current_daily_rate=RATES["A"], current_limit=current,
                    outstanding_principal=D("0.00"))
    assert result.new_limit == new_limit


def test_a_raise_stops_at_the_products_maximum():
    # A at income 40,000: 240,000, capped at the product's 200,000; 190,000 + 38,000 = 228,000.
    result = review(grade="A", current_daily_rate=RATES["A"], monthly_income=D("40000.00"),
                    current_limit=D("190000.00"))
    assert result.target_limit == D("200000.00")
    assert result.new_limit == D("200000.00")


def test_a_line_at_the_products_maximum_is_not_raised():
    result = review(grade="A", current_daily_rate=RATES["A"], monthly_income=D("40000.00"),
                    current_limit=D("200000.00"))
    assert not result.changed and result.findings == ()


def test_an_officers_cap_holds_against_a_raise():
    result = review(grade="A", current_daily_rate=RATES["A"], officer_cap=D("40000.00"))
    assert result.new_limit is None
    assert result.findings == (RAISE_HELD_OFFICER_CAP,)


def test_an_officers_cap_above_the_limit_stops_the_raise_at_the_cap():
    result = review(grade="A", current_daily_rate=RATES["A"], officer_cap=D("43210.99"))
    assert result.new_limit == D("43210.99")  # below 48,000


def test_a_lower_is_not_stopped_by_an_officers_cap():
    result = review(grade="C", current_daily_rate=RATES["C"], officer_cap=D("40000.00"))
    assert result.new_limit == D("30000.00")


def _bcard(name: str, as_of: date, **columns) -> float:
    """One B-card feature for one customer, from hand-made columns (risk.features.behaviour:
    the definitions the close step reads months on book and days past due from)."""
    [feature] = [f for f in BEHAVIOUR_FEATURES if f.name == name]
    base = {"customer_id": np.array([1]), "first_opened_on": np.array([], "datetime64[D]"),
            "late_customer": np.array([], np.int64),
            "late_due_date": np.array([], "datetime64[D]"),
            "late_paid_on": np.array([], "datetime64[D]")}
    [value] = feature.compute({**base, **columns}, as_of)
    return float(value)


@pytest.mark.parametrize("as_of, months, raised", [
    # Opened 2026-01-01: on 2026-03-31 two months and 30 days, on 2026-04-01 three months.
    (date(2026, 3, 31), 2, False),
    (date(2026, 4, 1), 3, True),
])
def test_a_raise_needs_three_months_on_book(as_of, months, raised):
    on_book = _bcard("months_on_book", as_of,
                     first_opened_on=np.array(["2026-01-01"], "datetime64[D]"))
    assert on_book == months
    result = review(grade="A", current_daily_rate=RATES["A"], months_on_book=int(on_book),
                    business_date=as_of)
    assert (result.new_limit == D("48000.00")) is raised
    assert (RAISE_HELD_MONTHS_ON_BOOK in result.findings) is not raised


@pytest.mark.parametrize("as_of, worst, raised", [
    # An instalment due 2026-01-10 and paid on the 11th: one day past due on 2026-01-11.
    # 2026-07-10: six months less a day ago, within the last six months.
    (date(2026, 7, 10), 1, False),
    # 2026-07-11: exactly six months ago, the window (2026-01-11, 2026-07-11] leaves it out.
    (date(2026, 7, 11), 0, True),
    # 2026-07-12: six months and a day ago.
    (date(2026, 7, 12), 0, True),
])
def test_a_raise_needs_no_day_past_due_in_six_months(as_of, worst, raised):
    worst_dpd = _bcard("worst_dpd_6m", as_of, late_customer=np.array([0]),
                       late_due_date=np.array(["2026-01-10"], "datetime64[D]"),
                       late_paid_on=np.array(["2026-01-11"], "datetime64[D]"))
    assert worst_dpd == worst
    result = review(grade="A", current_daily_rate=RATES["A"], worst_dpd_6m=int(worst_dpd),
                    business_date=as_of)
    assert (result.new_limit == D("48000.00")) is raised
    assert (RAISE_HELD_PAST_DUE in result.findings) is not raised


@pytest.mark.parametrize("last_raise_on, raised", [
    # 2026-04-02 -> 2026-06-30: 28 + 31 + 30 = 89 days; 2026-04-01: 90 days.
    (date(2026, 4, 2), False),
    (date(2026, 4, 1), True),
])
def test_a_raise_needs_ninety_days_since_the_last(last_raise_on, raised):
    assert (TODAY - last_raise_on).days == (90 if raised else 89)
    result = review(grade="A", current_daily_rate=RATES["A"], last_raise_on=last_raise_on)
    assert (result.new_limit == D("48000.00")) is raised
    assert (RAISE_HELD_RECENT_RAISE in result.findings) is not raised


def test_every_rule_holding_a_raise_back_is_recorded():
    result = review(grade="A", current_daily_rate=RATES["A"], officer_cap=D("40000.00"),
                    months_on_book=1, worst_dpd_6m=3, last_raise_on=TODAY)
    assert result.findings == (RAISE_HELD_OFFICER_CAP, RAISE_HELD_MONTHS_ON_BOOK,
                               RAISE_HELD_PAST_DUE, RAISE_HELD_RECENT_RAISE)
    assert not result.changed


def test_a_lower_needs_none_of_a_raises_conditions():
    result = review(grade="C", current_daily_rate=RATES["C"], months_on_book=0,
                    worst_dpd_6m=45, last_raise_on=TODAY)
    assert result.new_limit == D("30000.00")


# --- Price ----------------------------------------------------------------------------------

@pytest.mark.parametrize("grade, rate, code", [
    ("A", RATES["A"], RATE_LOWERED),
    ("C", RATES["C"], RATE_RAISED),
    ("D", RATES["D"], RATE_RAISED),
])
def test_the_rate_follows_the_grade_within_the_band(grade, rate, code):
    # Income 10,000 with the limit at each grade's target, so that only the price moves.
    targets = {"A": "60000.00", "C": "30000.00", "D": "15000.00"}
    result = review(grade=grade, current_limit=D(targets[grade]))
    assert result.new_limit is None
    assert result.new_daily_rate == rate
    apr = quote_loan(principal=D("10000.00"), term_months=12, daily_rate=rate,
                     method="equal_instalment", start=TODAY).apr
    assert result.new_apr == apr <= PRODUCT.apr_cap
    assert result.reason_codes == (code,)
    moved = "down" if code == RATE_LOWERED else "up"
    shown = {"A": "0.02", "C": "0.04", "D": "0.05"}[grade]
    assert result.reason_texts[0] == (
        f"After our regular review of your account, the daily interest rate for new loans on "
        f"your line is now {shown}% a day (APR {apr:.2f}%), {moved} from 0.03% a day. The "
        f"loans you have already drawn keep their rate.")


def test_the_apr_cap_steps_the_rate_down_as_an_offer_does():
    capped = dataclasses.replace(PRODUCT, apr_cap=D("15.00"))
    result = review(grade="D", product=capped, current_limit=D("15000.00"))
    # D's band rate 0.0005 quotes about 18 %: stepped down to the highest rate within 15 %.
    rate, apr = rate_within_cap(RATES["D"], capped.min_daily_rate, capped.apr_cap, 12,
                                "equal_instalment", TODAY)
    assert RATES["B"] < rate < RATES["D"]
    assert (result.new_daily_rate, result.new_apr) == (rate, apr)
    assert apr <= D("15.00")
    one_step_more = quote_loan(principal=D("10000.00"), term_months=12,
                               daily_rate=rate + D("0.00000001"), method="equal_instalment",
                               start=TODAY).apr
    assert one_step_more > D("15.00")


def test_a_rate_already_at_the_capped_price_does_not_change():
    capped = dataclasses.replace(PRODUCT, apr_cap=D("15.00"))
    rate, _ = rate_within_cap(RATES["D"], capped.min_daily_rate, capped.apr_cap, 12,
                              "equal_instalment", TODAY)
    result = review(grade="D", product=capped, current_limit=D("15000.00"),
                    current_daily_rate=rate)
    assert not result.changed


def test_a_cap_even_the_band_minimum_breaks_keeps_the_rate():
    capped = dataclasses.replace(PRODUCT, apr_cap=D("5.00"))
    result = review(grade="C", product=capped, current_limit=D("30000.00"))
    assert result.new_daily_rate is None
    assert result.findings == (PRICE_HELD_APR_CAP_UNREACHABLE,)


def test_a_limit_and_a_price_change_together():
    result = review(grade="C")
    assert (result.new_limit, result.new_daily_rate) == (D("30000.00"), RATES["C"])
    assert result.reason_codes == (LIMIT_LOWERED, RATE_RAISED)


# --- Inputs ---------------------------------------------------------------------------------

def test_product_terms_come_from_a_product_like_an_offers():
    product = CreditProduct(code="cash", min_daily_rate=D("0.00020000"),
                            max_daily_rate=D("0.00060000"), allowed_terms=[3, 12, 6],
                            repayment_methods=["equal_instalment", "equal_principal"],
                            min_amount=D("500.00"), max_amount=D("200000.00"),
                            apr_cap=D("24.00"))
    assert ProductTerms.of(product) == PRODUCT


@pytest.mark.parametrize("overrides", [
    {"current_limit": 40000.0},  # a float is refused, as everywhere money enters
    {"grade": "F"},
    {"outstanding_principal": D("-1.00")},
    {"probability": D("1.5")},
    {"worst_dpd_6m": -1},
    {"officer_cap": D("39999.99")},  # a limit above its cap is not a line
])
def test_inputs_that_cannot_describe_a_line_are_refused(overrides):
    with pytest.raises((TypeError, ValueError)):
        review_input(**overrides)


# --- Properties -----------------------------------------------------------------------------

CAPPED = dataclasses.replace(PRODUCT, apr_cap=D("15.00"))
SMALL = ProductTerms(min_amount=D("100.00"), max_amount=D("12345.67"),
                     min_daily_rate=D("0.00030000"), max_daily_rate=D("0.00050000"),
                     apr_cap=D("24.00"), reference_term_months=6,
                     reference_method="equal_principal")


def cents(most: Decimal):
    """Amounts from 0 to `most`, to the cent."""
    return st.integers(0, int(most * 100)).map(lambda n: D(n) / 100)


@st.composite
def line_inputs(draw):
    """Lines as the database allows them: drawn <= limit <= officer's cap, and a limit at most
    the product's maximum."""
    product = draw(st.sampled_from([PRODUCT, CAPPED, SMALL]))
    cap = draw(st.none() | cents(product.max_amount))
    ceiling = product.max_amount if cap is None else cap
    current = draw(cents(ceiling))
    drawn = draw(cents(current))
    return review_input(
        product=product, officer_cap=cap, current_limit=current, outstanding_principal=drawn,
        grade=draw(st.sampled_from("ABCDE")),
        # Mostly incomes some limit fits, now and then one too low for any.
        monthly_income=draw(st.sampled_from([D("0.00"), D("333.33")])
                            | st.integers(50_000, 5_000_000).map(lambda n: D(n) / 100)),
        current_daily_rate=draw(st.sampled_from(list(RATES.values()))),
        months_on_book=draw(st.integers(0, 24)),
        worst_dpd_6m=draw(st.sampled_from([0, 0, 0, 1, 30])),
        last_raise_on=draw(st.none() | st.integers(0, 200).map(lambda d: TODAY - timedelta(d))))


@hypothesis_settings(max_examples=300, deadline=None)
@given(line_inputs())
def test_a_new_limit_lies_between_what_is_drawn_and_the_ceiling(inputs):
    result = line_review(inputs)
    current = inputs.current_limit
    ceiling = inputs.product.max_amount
    if inputs.officer_cap is not None:
        ceiling = min(ceiling, inputs.officer_cap)
    if result.new_limit is None:
        assert not set(result.reason_codes) & {LIMIT_LOWERED, LIMIT_LOWERED_TO_DRAWN,
                                               LIMIT_RAISED}
        return
    assert inputs.outstanding_principal <= result.new_limit <= ceiling
    assert result.new_limit != current
    assert result.new_limit == result.new_limit.quantize(D("0.01"))
    if result.new_limit > current:
        assert result.reason_codes[0] == LIMIT_RAISED
        assert result.new_limit <= result.target_limit
        assert result.new_limit - current <= max(current * RAISE_SHARE,
                                                 inputs.product.min_amount, D(100))
        assert inputs.months_on_book >= 3 and inputs.worst_dpd_6m == 0
        assert inputs.last_raise_on is None or (TODAY - inputs.last_raise_on).days >= 90
    else:
        assert result.reason_codes[0] in (LIMIT_LOWERED, LIMIT_LOWERED_TO_DRAWN)
        assert result.target_limit < current * (1 - LOWER_THRESHOLD)
        assert result.new_limit >= result.target_limit


@hypothesis_settings(max_examples=300, deadline=None)
@given(line_inputs())
def test_a_new_rate_lies_within_the_band_and_at_most_the_grades(inputs):
    result = line_review(inputs)
    if result.new_daily_rate is None:
        return
    product = inputs.product
    assert inputs.grade != "E"
    assert product.min_daily_rate <= result.new_daily_rate <= product.max_daily_rate
    assert result.new_daily_rate <= band_rate(inputs.grade,
                                              min_daily_rate=product.min_daily_rate,
                                              max_daily_rate=product.max_daily_rate)
    assert result.new_apr <= product.apr_cap
    assert result.new_daily_rate != inputs.current_daily_rate
