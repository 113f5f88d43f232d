from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.audit import actor_system
from core.errors import IdempotencyConflict, InvalidAmount
from lending.errors import InsufficientCredit, LendingError, LineNotUsable, QuoteRefused
from lending.models import JournalEntry, Loan, LoanFunding
from lending.rules.schedule import quote_loan
from lending.selectors import ledger_account_balance, ledger_principal_of
from lending.services import credit_line_freeze, loan_originate
from tests.factories import CreditLineFactory, partner_bank, set_business_date

D = Decimal


def originate(line, key="k", principal="10000", term=12, method="equal_instalment"):
    return loan_originate(line_id=line.pk, principal=principal, term_months=term, method=method,
                          idempotency_key=key, scope="test")


def test_origination_books_the_quote_funding_and_ledger(line, bank):
    set_business_date(date(2026, 1, 31))
    loan = originate(line)
    assert loan.apr == D("18.12")
    assert [(i.due_date, i.principal_due, i.interest_due) for i in loan.instalments.all()][:2] == [
        (date(2026, 2, 28), D("776.80"), D("140.00")),
        (date(2026, 3, 31), D("773.84"), D("142.96")),
    ]
    line.refresh_from_db()
    assert line.outstanding_principal == D("10000.00")
    assert line.available == D("40000.00")
    bank_part = LoanFunding.objects.get(loan=loan, partner_bank=bank)
    platform_part = LoanFunding.objects.get(loan=loan, partner_bank=None)
    assert (bank_part.principal, platform_part.principal) == (D("7000.00"), D("3000.00"))
    assert ledger_principal_of(loan) == D("10000.00")
    assert ledger_account_balance("cash") == D("-3000.00")
    assert ledger_account_balance("partner_funding:bank-a") == D("-7000.00")


def test_partner_share_is_capped_by_the_product(db):
    partner_bank("greedy", share="0.90")
    line = CreditLineFactory()
    loan = originate(line)
    assert LoanFunding.objects.get(loan=loan, partner_bank__code="greedy").share == D("0.70")


def test_loans_alternate_between_active_banks(line, bank):
    other = partner_bank("bank-b")
    banks = [originate(line, key=f"k{n}", principal="1000").fundings
             .exclude(partner_bank=None).get().partner_bank for n in range(4)]
    assert banks == [bank, other, bank, other]


def test_without_a_partner_bank_the_platform_funds_everything(db):
    line = CreditLineFactory()
    loan = originate(line)
    assert list(loan.fundings.values_list("partner_bank", "principal")) == [(None, D("10000.00"))]


def test_replay_returns_the_first_loan_and_a_changed_body_conflicts(line):
    first = originate(line, key="same")
    assert originate(line, key="same").pk == first.pk
    assert Loan.objects.count() == 1
    assert JournalEntry.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        originate(line, key="same", principal="2000")


def test_a_failed_request_stores_nothing_so_the_key_can_be_used_again(line):
    with pytest.raises(InsufficientCredit):
        originate(line, key="retry", principal="60000")
    assert originate(line, key="retry", principal="6000").principal == D("6000.00")


@pytest.mark.parametrize("principal, term, method, error", [
    ("-100", 12, "equal_instalment", InvalidAmount),
    ("abc", 12, "equal_instalment", InvalidAmount),
    (1000.5, 12, "equal_instalment", InvalidAmount),
    ("100", 12, "equal_instalment", QuoteRefused),  # below the product's minimum
    ("1000", 7, "equal_instalment", QuoteRefused),  # term not offered
    ("1000", "12", "equal_instalment", QuoteRefused),
    ("1000", 12, "balloon", QuoteRefused),
    ("50000.01", 12, "equal_instalment", InsufficientCredit),
])
def test_bad_requests_change_nothing(line, principal, term, method, error):
    with pytest.raises(error):
        originate(line, principal=principal, term=term, method=method)
    line.refresh_from_db()
    assert line.outstanding_principal == 0
    assert Loan.objects.count() == 0 and JournalEntry.objects.count() == 0


def test_frozen_line_and_missing_line_are_refused(line):
    credit_line_freeze(line_id=line.pk, reason="Fraud check", actor=actor_system("tests"))
    with pytest.raises(LineNotUsable):
        originate(line)
    with pytest.raises(LendingError, match="No such credit line"):
        loan_originate(line_id=10**9, principal="1000", term_months=12,
                       method="equal_instalment", idempotency_key="x", scope="test")


def test_an_apr_above_the_cap_is_refused(line):
    set_business_date(date(2026, 1, 31))
    line.product.apr_cap = D("18.00")  # 0.05 % a day over 12 months from Jan 31 is 18.12 %
    line.product.save()
    with pytest.raises(QuoteRefused, match="18.12% is above this product's cap of 18.00%"):
        originate(line)
    assert Loan.objects.count() == 0


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(principal=st.integers(50_000, 5_000_000).map(lambda c: D(c) / 100),
       term=st.sampled_from([3, 6, 12]),
       rate=st.integers(20, 60).map(lambda r: D(r) / 100_000),
       start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
       method=st.sampled_from(["equal_instalment", "equal_principal", "interest_first"]))
def test_what_origination_books_is_the_quote(bank, principal, term, rate, start, method):
    set_business_date(start)
    line = CreditLineFactory(daily_rate=rate)
    quote = quote_loan(principal=principal, term_months=term, daily_rate=rate, method=method,
                       start=start, apr_cap=D("24"))
    loan = loan_originate(line_id=line.pk, principal=principal, term_months=term, method=method,
                          idempotency_key=f"p{line.pk}", scope="test")
    booked = [(i.seq, i.period_start, i.due_date, i.principal_due, i.interest_due)
              for i in loan.instalments.order_by("seq")]
    assert booked == [(i.seq, i.period_start, i.due_date, i.principal, i.interest)
                      for i in quote.instalments]
    assert loan.apr == quote.apr
    assert sum(f.principal for f in loan.fundings.all()) == principal


def test_a_quote_of_another_business_date_is_refused_but_a_replay_still_finds_its_loan(line):
    set_business_date(date(2026, 1, 31))
    booked = loan_originate(line_id=line.pk, principal="1000", term_months=12,
                            method="equal_instalment", idempotency_key="q1", scope="test",
                            quoted_on=date(2026, 1, 31))
    set_business_date(date(2026, 2, 1))
    # The customer's browser resends the confirmation the next day: the loan it made.
    assert loan_originate(line_id=line.pk, principal="1000", term_months=12,
                          method="equal_instalment", idempotency_key="q1", scope="test",
                          quoted_on=date(2026, 1, 31)).pk == booked.pk
    with pytest.raises(QuoteRefused, match="moved on since this quote") as refused:
        loan_originate(line_id=line.pk, principal="1000", term_months=12,
                       method="equal_instalment", idempotency_key="q2", scope="test",
                       quoted_on=date(2026, 1, 31))
    assert refused.value.code == "stale_quote"
    assert Loan.objects.count() == 1
