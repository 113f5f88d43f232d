"""Checkout confirmations at once, in threads with their own database connections (PostgreSQL,
real transactions): a line is never overdrawn, and one checkout makes one purchase."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum

from core.errors import DomainError
from lending.models import CheckoutStatus, CreditLine, Purchase
from lending.services import checkout_confirm, checkout_create
from tests.factories import MerchantFactory, PayLaterLineFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(calls):
    """Each call in its own thread, released together; their results or errors, in order."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            start.wait()
            results[i] = call()
        except Exception as error:  # each outcome is checked by the test
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def checkout_for(merchant, n, amount):
    return checkout_create(
        merchant=merchant,
        amount=amount,
        order_reference=f"order-{n}",
        description="",
        return_url="https://shop.example.com/done",
        idempotency_key=f"key-{n}",
    )


def test_twenty_confirmations_at_once_never_overdraw_the_line():
    assert connection.vendor == "postgresql"
    merchant = MerchantFactory()
    line = PayLaterLineFactory(credit_limit=Decimal("1000.00"))
    # 20 checkouts of 150.00 against a limit of 1,000.00: at most 6 fit.
    checkouts = [checkout_for(merchant, n, "150.00") for n in range(20)]
    results = run_at_once(
        [lambda c=c: checkout_confirm(checkout=c, customer=line.customer) for c in checkouts]
    )

    paid = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(error, DomainError) for error in refused), refused
    assert len(paid) == 6 and len(refused) == 14
    line.refresh_from_db()
    total = Purchase.objects.filter(line=line).aggregate(total=Sum("amount"))["total"]
    assert total == Decimal("900.00") <= line.credit_limit
    assert line.outstanding_principal == total <= line.credit_limit
    assert all(c.status == CheckoutStatus.CONFIRMED for c in paid)


def test_one_checkout_confirmed_twice_at_once_makes_one_purchase():
    merchant = MerchantFactory()
    line = PayLaterLineFactory(credit_limit=Decimal("1000.00"))
    checkout = checkout_for(merchant, 1, "300.00")
    results = run_at_once(
        [lambda: checkout_confirm(checkout=checkout, customer=line.customer) for _ in range(2)]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0].purchase_id == results[1].purchase_id is not None
    assert Purchase.objects.count() == 1
    assert CreditLine.objects.get(pk=line.pk).outstanding_principal == Decimal("300.00")
