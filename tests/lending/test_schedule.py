"""The quote, checked against figures worked out by hand (and an APR by plain bisection)."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidAmount
from lending.errors import QuoteRefused
from lending.rules.schedule import add_months_anchored, due_dates, level_payment, quote_loan

D = Decimal

# 10,000 over 12 months at 0.05 % a day from 2026-01-31, equal instalments. A = 916.80 from
# P i / (1 - (1 + i)^-12) with i = 1.5 %; each interest is outstanding x 0.0005 x days, e.g.
# row 2: (10000 - 776.80) x 0.0005 x 31 = 142.9596 -> 142.96.
EQUAL_INSTALMENT_ROWS = [
    (1, "2026-02-28", 28, "776.80", "140.00", "916.80"),
    (2, "2026-03-31", 31, "773.84", "142.96", "916.80"),
    (3, "2026-04-30", 30, "790.06", "126.74", "916.80"),
    (4, "2026-05-31", 31, "798.08", "118.72", "916.80"),
    (5, "2026-06-30", 30, "813.88", "102.92", "916.80"),
    (6, "2026-07-31", 31, "823.07", "93.73", "916.80"),
    (7, "2026-08-31", 31, "835.82", "80.98", "916.80"),
    (8, "2026-09-30", 30, "850.97", "65.83", "916.80"),
    (9, "2026-10-31", 31, "861.97", "54.83", "916.80"),
    (10, "2026-11-30", 30, "876.67", "40.13", "916.80"),
    (11, "2026-12-31", 31, "888.92", "27.88", "916.80"),
    (12, "2027-01-31", 31, "909.92", "14.10", "924.02"),
]


def rows_of(quote):
    return [(i.seq, i.due_date.isoformat(), i.days, str(i.principal), str(i.interest),
             str(i.total)) for i in quote.instalments]


def test_equal_instalment_worked_example():
    quote = quote_loan(principal="10000", term_months=12, daily_rate="0.0005",
                       method="equal_instalment", start=date(2026, 1, 31))
    assert rows_of(quote) == EQUAL_INSTALMENT_ROWS
    assert quote.apr == D("18.12")
    assert quote.total_interest == D("1008.82")


def test_equal_principal_worked_example():
    # 12,000 over 3 months: 4,000 of principal each; interest 12000 x .0005 x 28 = 168,
    # 8000 x .0005 x 31 = 124, 4000 x .0005 x 30 = 60. IRR by bisection: 17.593 % a year.
    quote = quote_loan(principal="12000", term_months=3, daily_rate="0.0005",
                       method="equal_principal", start=date(2026, 1, 31))
    assert rows_of(quote) == [
        (1, "2026-02-28", 28, "4000.00", "168.00", "4168.00"),
        (2, "2026-03-31", 31, "4000.00", "124.00", "4124.00"),
        (3, "2026-04-30", 30, "4000.00", "60.00", "4060.00"),
    ]
    assert quote.apr == D("17.59")


def test_equal_principal_last_takes_the_remainder():
    # 1000 / 3 = 333.33 twice, and 333.34 last.
    quote = quote_loan(principal="1000", term_months=3, daily_rate="0.0003",
                       method="equal_principal", start=date(2026, 5, 10))
    assert [str(i.principal) for i in quote.instalments] == ["333.33", "333.33", "333.34"]


def test_interest_first_worked_example():
    # 10,000 at .0005: 31, 30 and 31 days -> 155, 150, 155; principal with the last.
    quote = quote_loan(principal="10000", term_months=3, daily_rate="0.0005",
                       method="interest_first", start=date(2026, 3, 15))
    assert rows_of(quote) == [
        (1, "2026-04-15", 31, "0.00", "155.00", "155.00"),
        (2, "2026-05-15", 30, "0.00", "150.00", "150.00"),
        (3, "2026-06-15", 31, "10000.00", "155.00", "10155.00"),
    ]
    assert quote.apr == D("18.40")


def test_due_dates_anchor_to_the_start_day_and_clamp_to_month_end():
    assert due_dates(date(2026, 1, 31), 4) == [date(2026, 2, 28), date(2026, 3, 31),
                                               date(2026, 4, 30), date(2026, 5, 31)]
    assert add_months_anchored(date(2027, 12, 31), 2) == date(2028, 2, 29)  # leap year
    assert add_months_anchored(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_level_payment_matches_the_annuity_formula():
    assert level_payment(D("10000.00"), D("0.0005"), 12) == D("916.80")


def test_apr_above_the_cap_is_refused():
    with pytest.raises(QuoteRefused, match="above this product's cap"):
        quote_loan(principal="10000", term_months=12, daily_rate="0.0008",
                   method="equal_instalment", start=date(2026, 1, 31), apr_cap=D("24"))


@pytest.mark.parametrize("principal", ["-5", "0", "abc", "10.001", 10.5, "NaN", "Infinity"])
def test_bad_principal_is_refused(principal):
    with pytest.raises(InvalidAmount):
        quote_loan(principal=principal, term_months=12, daily_rate="0.0005",
                   method="equal_instalment", start=date(2026, 1, 31))


@pytest.mark.parametrize("term, rate, method", [
    (0, "0.0005", "equal_instalment"), (12, "0", "equal_instalment"),
    (12, "0.0005", "balloon"), ("12", "0.0005", "equal_instalment"),
])
def test_bad_terms_are_refused(term, rate, method):
    with pytest.raises(QuoteRefused):
        quote_loan(principal="1000", term_months=term, daily_rate=rate, method=method,
                   start=date(2026, 1, 31))


def test_loan_quote_command_prints_json(capsys):
    call_command("loan_quote", "--principal", "10000", "--term", "12", "--daily-rate", "0.0005",
                 "--method", "equal_instalment", "--start", "2026-01-31", "--json")
    printed = json.loads(capsys.readouterr().out)
    assert printed["apr"] == "18.12"
    assert printed["total_interest"] == "1008.82"
    assert [row["total"] for row in printed["instalments"]][:11] == ["916.80"] * 11
    assert printed["instalments"][0] == {"seq": 1, "due_date": "2026-02-28", "days": 28,
                                         "principal": "776.80", "interest": "140.00",
                                         "total": "916.80"}


def test_loan_quote_command_refuses_with_a_message():
    with pytest.raises(CommandError, match="greater than zero"):
        call_command("loan_quote", "--principal", "-1", "--term", "12", "--daily-rate",
                     "0.0005", "--method", "equal_instalment", "--start", "2026-01-31")


principals = st.integers(min_value=100, max_value=50_000_000).map(lambda c: D(c) / 100)
rates = st.integers(min_value=1, max_value=300).map(lambda r: D(r) / 100_000)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
methods = st.sampled_from(["equal_instalment", "equal_principal", "interest_first"])


@settings(max_examples=300, deadline=None)
@given(principal=principals, term=st.integers(1, 60), rate=rates, start=starts, method=methods)
def test_schedule_properties(principal, term, rate, start, method):
    quote = quote_loan(principal=principal, term_months=term, daily_rate=rate, method=method,
                       start=start)
    parts = [i.principal for i in quote.instalments]
    assert sum(parts) == principal
    assert all(p >= 0 for p in parts)
    assert all(i.interest >= 0 for i in quote.instalments)
    assert len(quote.instalments) == term
    # Every amount is on the cent grid.
    assert all(i.principal == i.principal.quantize(D("0.01")) for i in quote.instalments)
    # Each period's interest is exactly its outstanding x rate x days, rounded half-up.
    outstanding = principal
    for i in quote.instalments:
        exact = outstanding * rate * i.days
        assert abs(i.interest - exact) <= D("0.005")
        outstanding -= i.principal
    assert quote.instalments[-1].due_date == add_months_anchored(start, term)
