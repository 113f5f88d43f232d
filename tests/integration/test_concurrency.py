"""Invariants under concurrent requests, on PostgreSQL with real transactions and threads."""

import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from lending.errors import InsufficientCredit, LendingError
from lending.models import CreditLine, JournalEntry, Loan, LoanFunding, LoanStatus
from lending.selectors import ledger_principal_of, unbalanced_entry_ids
from lending.services import loan_originate, loan_payoff_amount, loan_repay
from tests.factories import CreditLineFactory, partner_bank

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(count, work):
    """Start `count` threads together; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def runner(n):
        try:
            barrier.wait()
            results[n] = work(n)
        except Exception as exc:  # the test inspects each outcome
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_concurrent_draws_never_exceed_the_limit():
    partner_bank()
    line = CreditLineFactory(credit_limit=D("50000.00"))

    def draw(n):
        return loan_originate(line_id=line.pk, principal="7000", term_months=6,
                              method="equal_principal", idempotency_key=f"draw-{n}",
                              scope="test")

    results = run_in_threads(20, draw)
    made = [r for r in results if isinstance(r, Loan)]
    refused = [r for r in results if isinstance(r, InsufficientCredit)]
    assert len(made) == 7 and len(refused) == 13, results  # 7 x 7000 = 49000 <= 50000
    line.refresh_from_db()
    assert line.outstanding_principal == D("49000.00") <= line.credit_limit
    assert Loan.objects.aggregate(total=Sum("principal"))["total"] == D("49000.00")


def test_the_same_key_sent_concurrently_makes_one_loan_and_one_entry():
    partner_bank()
    line = CreditLineFactory()

    def draw(n):
        return loan_originate(line_id=line.pk, principal="1234.56", term_months=3,
                              method="equal_instalment", idempotency_key="one-key",
                              scope="test")

    results = run_in_threads(12, draw)
    assert all(isinstance(r, Loan) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Loan.objects.count() == 1
    assert JournalEntry.objects.count() == 1
    line.refresh_from_db()
    assert line.outstanding_principal == D("1234.56")


def test_the_same_repayment_key_sent_concurrently_takes_one_payment():
    partner_bank()
    line = CreditLineFactory()
    loan = loan_originate(line_id=line.pk, principal="5000", term_months=3,
                          method="equal_instalment", idempotency_key="l", scope="test")
    results = run_in_threads(10, lambda n: loan_repay(loan_id=loan.pk, amount="1000",
                                                      idempotency_key="pay", scope="test"))
    assert len({r.pk for r in results}) == 1, results
    loan.refresh_from_db()
    assert loan.outstanding_principal == D("4000.00")


def test_random_borrowing_and_repaying_keeps_every_book_in_agreement():
    partner_bank("bank-a")
    partner_bank("bank-b", share="0.50")
    lines = [CreditLineFactory(credit_limit=D("30000.00")) for _ in range(3)]
    line_ids = [line.pk for line in lines]

    def customer_session(n):
        rng = random.Random(n)
        outcomes = Counter()
        for step in range(12):
            line_id = rng.choice(line_ids)
            try:
                if rng.random() < 0.5:
                    loan_originate(line_id=line_id, principal=str(rng.randint(500, 9000)),
                                   term_months=rng.choice([3, 6, 12]),
                                   method=rng.choice(["equal_instalment", "equal_principal",
                                                      "interest_first"]),
                                   idempotency_key=f"o-{n}-{step}", scope=f"thread-{n}")
                    outcomes["borrowed"] += 1
                else:
                    loan = (Loan.objects.filter(line_id=line_id, status=LoanStatus.ACTIVE)
                            .order_by("?").first())
                    if loan is None:
                        continue
                    payoff = loan_payoff_amount(loan)
                    if payoff <= 0:
                        continue  # paid off by another thread since it was read
                    amount = payoff if rng.random() < 0.3 else min(
                        payoff, D(rng.randint(100, 3000)))
                    loan_repay(loan_id=loan.pk, amount=amount,
                               idempotency_key=f"r-{n}-{step}", scope=f"thread-{n}")
                    outcomes["repaid"] += 1
            except LendingError as exc:
                # Refusals are expected (limit reached, loan settled by another thread).
                outcomes[type(exc).__name__] += 1
        return outcomes

    results = run_in_threads(8, customer_session)
    failures = [r for r in results if not isinstance(r, Counter)]
    assert not failures, failures
    totals = sum(results, Counter())
    assert totals["borrowed"] > 5 and totals["repaid"] > 5, totals

    assert unbalanced_entry_ids() == []
    for loan in Loan.objects.all():
        assert ledger_principal_of(loan) == loan.outstanding_principal
        fundings = LoanFunding.objects.filter(loan=loan)
        assert sum(f.outstanding_principal for f in fundings) == loan.outstanding_principal
        remaining = sum(i.principal_due - i.principal_paid for i in loan.instalments.all())
        assert remaining == loan.outstanding_principal
        assert (loan.status == LoanStatus.PAID_OFF) == (loan.outstanding_principal == 0)
    for line in CreditLine.objects.all():
        active = Loan.objects.filter(line=line).aggregate(s=Sum("outstanding_principal"))["s"]
        assert line.outstanding_principal == (active or 0)
        assert line.outstanding_principal <= line.credit_limit
