"""A partner bank's shares of interest, fees and penalty are rounded cumulatively: its share to
date is round_half_up(paid to date x share), whatever the sizes of the payments, so the cents of
rounding never all go one way. The 10,000 / 12 months / 0.05 % a day loan of 2026-01-31, 70 %
funded by bank-a (7,000.00), the rest by the platform."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lending.models import Instalment, JournalEntry, LoanFunding, Repayment
from lending.selectors import unbalanced_entry_ids
from lending.services import loan_originate, loan_payoff_amount, loan_repay
from lending.services.batch import PaymentRequest, loans_repay_many
from lending.services.repayment import Income, funder_income_parts
from tests.factories import CreditLineFactory, set_business_date

D = Decimal
ZERO = D("0.00")
START = date(2026, 1, 31)
SHARE = D("0.70")
BANK = "bank-a"


def round_half_up(value):
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def originate(line, key=None):
    set_business_date(START)
    return loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key=key or uuid4().hex,
                          scope="test")


def repay(loan, amount):
    return loan_repay(loan_id=loan.pk, amount=amount, idempotency_key=uuid4().hex, scope="test")


def legs_of(entry):
    return dict(entry.postings.values_list("account__code", "amount"))


def bank_parts(entry, repayment):
    """What a repayment entry passed on to the bank, read back from its postings.

    Income accounts carry the platform's part only: -(paid) + (the bank's part); no interest
    was accrued by a close here, so all of the interest paid goes through interest income."""
    legs = legs_of(entry)
    parts = Income(interest=legs.get("interest_income", ZERO) + repayment.interest,
                   fee=legs.get("fee_income", ZERO) + repayment.fee,
                   penalty=legs.get("penalty_income", ZERO) + repayment.penalty)
    principal = legs.get(f"partner_funding:{BANK}", ZERO)
    # What the bank is owed is exactly its principal plus its shares.
    assert -legs.get(f"partner_payable:{BANK}", ZERO) == principal + parts.total
    assert sum(legs.values()) == 0
    return parts


def entries_with_repayments(loan):
    entries = list(JournalEntry.objects.filter(loan=loan, kind="repayment").order_by("pk"))
    repayments = list(Repayment.objects.filter(loan=loan).order_by("pk"))
    assert len(entries) == len(repayments)
    return list(zip(entries, repayments, strict=True))


def test_five_one_cent_interest_payments_give_the_bank_its_70_percent_not_all(line, bank):
    loan = originate(line)
    set_business_date(START + timedelta(days=1))  # one day's interest: 10,000 x 0.0005 = 5.00
    for _ in range(5):
        assert repay(loan, "0.01").interest == D("0.01")
    # Interest paid to date 0.01 .. 0.05; the bank's share to date round(0.70 x each):
    #   0.007 -> 0.01, 0.014 -> 0.01, 0.021 -> 0.02, 0.028 -> 0.03, 0.035 -> 0.04 (half up)
    # so each payment passes on 0.01, 0.00, 0.01, 0.01, 0.01: 0.04 in all, and the platform
    # keeps 0.01. Rounded one payment at a time the bank got round(0.007) = 0.01 five times.
    passed_on = [bank_parts(e, r).interest for e, r in entries_with_repayments(loan)]
    assert passed_on == [D("0.01"), ZERO, D("0.01"), D("0.01"), D("0.01")]
    entries = [e for e, _r in entries_with_repayments(loan)]
    assert legs_of(entries[1]) == {"cash": D("0.01"), "interest_income": D("-0.01")}
    assert legs_of(entries[2]) == {"cash": D("0.01"), f"partner_payable:{BANK}": D("-0.01")}

    # The payoff the same day: interest 5.00 - 0.05 = 4.95, all 10,000.00 of principal. The
    # bank's interest to date round(5.00 x 0.70) = 3.50, of which 0.04 passed on already: 3.46.
    assert loan_payoff_amount(loan) == D("10004.95")
    payoff = repay(loan, "10004.95")
    assert (payoff.interest, payoff.principal) == (D("4.95"), D("10000.00"))
    entry, _r = entries_with_repayments(loan)[-1]
    assert legs_of(entry) == {
        "cash": D("10004.95"),
        "interest_income": D("-1.49"),  # 4.95 - 3.46
        f"partner_funding:{BANK}": D("7000.00"),
        f"partner_payable:{BANK}": D("-7003.46"),
        f"principal_receivable:{BANK}": D("-7000.00"),
        "principal_receivable:platform": D("-3000.00"),
    }
    assert unbalanced_entry_ids() == []


def test_fees_and_penalty_are_shared_cumulatively_too(line, bank):
    loan = originate(line)
    Instalment.objects.filter(loan=loan, seq=1).update(penalty_due=D("0.05"), fee_due=D("0.03"))
    set_business_date(date(2026, 3, 2))  # the first instalment (due 2026-02-28) is due
    paid = [repay(loan, "0.01") for _ in range(8)]
    # Oldest due first, penalty before interest before fees: five cents of penalty, then the
    # first instalment's 140.00 interest takes the next three.
    assert [(p.penalty, p.interest, p.fee) for p in paid] == (
        [(D("0.01"), ZERO, ZERO)] * 5 + [(ZERO, D("0.01"), ZERO)] * 3)
    # Penalty as the interest above: 0.01, 0, 0.01, 0.01, 0.01 (0.04 = round(0.035)).
    # Interest: 0.007 -> 0.01, 0.014 -> 0.01, 0.021 -> 0.02: 0.01, 0, 0.01.
    passed_on = [bank_parts(e, r) for e, r in entries_with_repayments(loan)]
    assert [p.penalty for p in passed_on] == [D("0.01"), ZERO, D("0.01"), D("0.01"), D("0.01"),
                                              ZERO, ZERO, ZERO]
    assert [p.interest for p in passed_on][5:] == [D("0.01"), ZERO, D("0.01")]

    # 139.97 interest left of the instalment, then its 0.03 of fee, then 1.00 of principal.
    last = repay(loan, "141.00")
    assert (last.penalty, last.interest, last.fee, last.principal) == (
        ZERO, D("139.97"), D("0.03"), D("1.00"))
    # Interest to date 140.00 -> 98.00 for the bank, 0.02 passed on: 97.98. Fees to date
    # 0.03 -> round(0.021) = 0.02, none passed on yet: 0.02. Principal: the bank keeps
    # round(7,000 x 9,999 / 10,000) = 6,999.30 outstanding, so 0.70 comes back to it.
    entry, repayment = entries_with_repayments(loan)[-1]
    assert bank_parts(entry, repayment) == Income(interest=D("97.98"), fee=D("0.02"))
    assert legs_of(entry)[f"partner_payable:{BANK}"] == -(D("0.70") + D("97.98") + D("0.02"))
    assert legs_of(entry)["fee_income"] == D("-0.01")


def test_the_batch_path_reads_the_earlier_payments_and_books_what_the_service_books(bank):
    one, other = CreditLineFactory(), CreditLineFactory()
    loans = [originate(one), originate(other)]
    set_business_date(START + timedelta(days=1))
    for loan in loans:
        for _ in range(5):
            repay(loan, "0.01")
    # Pay both off the same day: the first through the batch path, the second through
    # `loan_repay`. Both pass on 3.50 - 0.04 = 3.46 of interest (per payment it would be
    # round(4.95 x 0.70) = round(3.465) = 3.47).
    [batch_payment] = loans_repay_many([PaymentRequest(loan_id=loans[0].pk,
                                                       idempotency_key="payoff", scope="test",
                                                       payoff=True)])
    service_payment = repay(loans[1], loan_payoff_amount(loans[1]))
    assert batch_payment.amount == service_payment.amount == D("10004.95")
    booked = [legs_of(entries_with_repayments(loan)[-1][0]) for loan in loans]
    assert booked[0] == booked[1]
    assert booked[0][f"partner_payable:{BANK}"] == D("-7003.46")
    for loan in loans:
        total = sum(bank_parts(e, r).interest for e, r in entries_with_repayments(loan))
        assert total == round_half_up(D("5.00") * SHARE) == D("3.50")


# Properties ------------------------------------------------------------------------------------

cents = st.integers(0, 5_000).map(lambda c: D(c) / 100)


@settings(max_examples=400, deadline=None)
@given(share=st.integers(0, 7_000_000).map(lambda s: D(s) / 10_000_000),
       payments=st.lists(st.tuples(cents, cents, cents), min_size=1, max_size=30))
def test_shares_to_date_are_always_the_rounded_share_of_what_was_paid_to_date(share, payments):
    funding = LoanFunding(pk=1, partner_bank_id=1, share=share)
    before = passed_on = Income()
    for interest, fee, penalty in payments:
        payment = Income(interest, fee, penalty)
        parts = funder_income_parts([funding], before, payment)[1]
        for part in Income.PARTS:
            assert ZERO <= getattr(parts, part) <= getattr(payment, part)
        before, passed_on = before.plus(payment), passed_on.plus(parts)
        for part in Income.PARTS:
            assert getattr(passed_on, part) == round_half_up(getattr(before, part) * share)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(penalty=st.integers(0, 40).map(lambda c: D(c) / 100),
       fee=st.integers(0, 40).map(lambda c: D(c) / 100),
       payments=st.lists(st.tuples(st.integers(0, 40),
                                   st.one_of(st.integers(1, 9), st.integers(10, 50_000))),
                         min_size=1, max_size=8))
def test_on_the_ledger_the_banks_share_to_date_is_the_rounded_share_of_each_part(
        bank, penalty, fee, payments):
    """Random payments (a few cents or up to 500.00) on random days over the first instalment's
    due date, with random penalty and fee on it: after every payment the bank's interest, fees
    and penalty passed on to date, read from the ledger, are round_half_up(paid to date x 0.70),
    and every entry balances."""
    loan = originate(CreditLineFactory())
    Instalment.objects.filter(loan=loan, seq=1).update(penalty_due=penalty, fee_due=fee)
    today = START
    paid = passed_on = Income()
    for gap, amount_cents in payments:
        today += timedelta(days=gap)
        set_business_date(today)
        amount = min(D(amount_cents) / 100, loan_payoff_amount(loan))
        repayment = repay(loan, amount)
        paid = paid.plus(repayment)
        entry, _r = entries_with_repayments(loan)[-1]
        passed_on = passed_on.plus(bank_parts(entry, repayment))
        for part in Income.PARTS:
            assert getattr(passed_on, part) == round_half_up(getattr(paid, part) * SHARE), part
        loan.refresh_from_db()
        if loan.status != "active":
            break
    assert unbalanced_entry_ids() == []
