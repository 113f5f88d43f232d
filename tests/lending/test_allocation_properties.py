"""Properties of spreading payments over a schedule, on the pure allocation functions."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.errors import Overpayment
from lending.rules.allocation import InstalmentState, allocate_payment, payoff_amount
from lending.rules.schedule import quote_loan

D = Decimal
ZERO = D("0.00")


def states_of(quote):
    return [InstalmentState(seq=i.seq, period_start=i.period_start, due_date=i.due_date,
                            principal_due=i.principal, interest_due=i.interest)
            for i in quote.instalments]


@settings(max_examples=250, deadline=None)
@given(
    principal=st.integers(50_000, 5_000_000).map(lambda c: D(c) / 100),
    term=st.integers(1, 12),
    rate=st.integers(20, 60).map(lambda r: D(r) / 100_000),
    method=st.sampled_from(["equal_instalment", "equal_principal", "interest_first"]),
    payments=st.lists(st.tuples(st.integers(0, 45), st.integers(1, 100)), min_size=1,
                      max_size=12),
)
def test_payments_never_create_or_lose_money(principal, term, rate, method, payments):
    start = date(2026, 1, 31)
    quote = quote_loan(principal=principal, term_months=term, daily_rate=rate, method=method,
                       start=start)
    states = states_of(quote)
    today = start
    paid_principal = paid_interest = ZERO
    for gap, percent in payments:
        today += timedelta(days=gap)
        payoff = payoff_amount(states, today, rate)
        if payoff == 0:
            break
        amount = max(D("0.01"), (payoff * percent / 100).quantize(D("0.01")))
        allocation = allocate_payment(states, amount, today, rate)
        assert allocation.total == amount
        for s in allocation.instalments:
            for part in ("principal", "interest", "fee", "penalty"):
                assert ZERO <= getattr(s, f"{part}_paid") <= getattr(s, f"{part}_due")
        states = allocation.instalments
        paid_principal += allocation.principal
        paid_interest += allocation.interest
        # A payoff leaves nothing owed, whatever came before.
        if amount == payoff:
            assert all(s.remaining == 0 for s in states)
    outstanding = sum((s.principal_left for s in states), ZERO)
    assert paid_principal + outstanding == principal
    # Paying early never costs more interest than the schedule (a cent of rounding per payment).
    assert paid_interest <= quote.total_interest + D("0.01") * len(payments)


def test_more_than_the_payoff_is_refused():
    quote = quote_loan(principal="1000", term_months=3, daily_rate="0.0005",
                       method="equal_instalment", start=date(2026, 1, 31))
    states = states_of(quote)
    payoff = payoff_amount(states, date(2026, 2, 5), D("0.0005"))
    assert payoff == D("1002.50")  # 5 days x 0.50
    with pytest.raises(Overpayment):
        allocate_payment(states, payoff + D("0.01"), date(2026, 2, 5), D("0.0005"))
