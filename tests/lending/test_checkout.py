"""The merchant checkout's services: create (replay, conflict, the return URL's prefix),
confirm (one purchase, a replay, refusals), cancel, expiry and refunds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import IdempotencyConflict, InvalidAmount
from lending.errors import InsufficientCredit, LendingError, LineNotUsable
from lending.models import Checkout, CheckoutStatus, CreditLine, Purchase
from lending.services import (
    checkout_cancel,
    checkout_confirm,
    checkout_create,
    checkout_refund,
)
from lending.services.checkout import CheckoutRefused
from tests.factories import MerchantFactory, PayLaterLineFactory, UserFactory

RETURN_URL = "https://shop.example.com/orders/return"


@pytest.fixture
def merchant(db):
    return MerchantFactory()


@pytest.fixture
def line(db):
    return PayLaterLineFactory(credit_limit=Decimal("1000.00"))


def create(
    merchant,
    key="key-1",
    amount="199.00",
    order="order-1",
    return_url=RETURN_URL,
    description="Tea",
):
    return checkout_create(
        merchant=merchant,
        amount=amount,
        order_reference=order,
        description=description,
        return_url=return_url,
        idempotency_key=key,
    )


def test_a_checkout_waits_for_the_customer_with_an_unguessable_token(merchant):
    checkout = create(merchant)
    assert checkout.status == CheckoutStatus.PENDING
    assert checkout.amount == Decimal("199.00")
    assert len(checkout.token) >= 32
    assert create(merchant, key="key-2", order="order-2").token != checkout.token
    assert timedelta(minutes=29) < checkout.expires_at - timezone.now() <= timedelta(minutes=30)


def test_a_replay_returns_the_same_checkout_and_another_body_is_a_conflict(merchant):
    first = create(merchant)
    assert create(merchant).pk == first.pk
    with pytest.raises(IdempotencyConflict):
        create(merchant, amount="200.00")
    assert Checkout.objects.count() == 1


def test_keys_are_per_merchant(merchant):
    other = MerchantFactory(code="other-shop", name="Other shop")
    assert create(merchant).pk != create(other).pk


@pytest.mark.parametrize(
    "return_url",
    [
        "https://evil.example.com/orders/return",
        "https://shop.example.com.evil.example/return",
        "http://shop.example.com/orders/return",  # the prefix is https
        "javascript:alert(1)",
        "",
    ],
)
def test_a_return_url_outside_the_merchants_prefixes_is_refused(merchant, return_url):
    with pytest.raises(LendingError):
        create(merchant, return_url=return_url)
    assert not Checkout.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-5", "1.234", 12.5, "abc"])
def test_a_bad_amount_is_refused(merchant, amount):
    with pytest.raises(InvalidAmount):
        create(merchant, amount=amount)


def test_confirming_books_one_purchase_on_the_line(merchant, line):
    checkout = checkout_confirm(checkout=create(merchant), customer=line.customer)
    assert checkout.status == CheckoutStatus.CONFIRMED
    assert checkout.customer == line.customer
    purchase = checkout.purchase
    assert (purchase.line_id, purchase.amount, purchase.order_reference) == (
        line.pk,
        Decimal("199.00"),
        "order-1",
    )
    line.refresh_from_db()
    assert line.outstanding_principal == Decimal("199.00")


def test_a_replayed_confirmation_makes_one_purchase(merchant, line):
    checkout = create(merchant)
    first = checkout_confirm(checkout=checkout, customer=line.customer)
    again = checkout_confirm(checkout=checkout, customer=line.customer)
    assert again.purchase_id == first.purchase_id
    assert Purchase.objects.count() == 1
    line.refresh_from_db()
    assert line.outstanding_principal == Decimal("199.00")


def test_another_customer_cannot_pay_a_paid_checkout(merchant, line):
    checkout = create(merchant)
    checkout_confirm(checkout=checkout, customer=line.customer)
    other = PayLaterLineFactory(customer=UserFactory())
    with pytest.raises(CheckoutRefused, match="paid already"):
        checkout_confirm(checkout=checkout, customer=other.customer)
    assert Purchase.objects.count() == 1


def test_a_customer_without_a_pay_later_line_is_refused(merchant):
    with pytest.raises(CheckoutRefused, match="no pay-later line"):
        checkout_confirm(checkout=create(merchant), customer=UserFactory())


def test_above_the_available_credit_is_refused_and_nothing_kept(merchant, line):
    checkout = create(merchant, amount="1000.01")
    with pytest.raises(InsufficientCredit):
        checkout_confirm(checkout=checkout, customer=line.customer)
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PENDING and checkout.purchase_id is None
    assert not Purchase.objects.exists()


def test_a_frozen_line_is_refused(merchant, line):
    CreditLine.objects.filter(pk=line.pk).update(status="frozen", frozen_by="officer")
    with pytest.raises(LineNotUsable):
        checkout_confirm(checkout=create(merchant), customer=line.customer)


def test_an_expired_checkout_is_refused_and_marked_expired(merchant, line):
    checkout = create(merchant)
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=timezone.now())
    with pytest.raises(CheckoutRefused, match="expired"):
        checkout_confirm(checkout=checkout, customer=line.customer)
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.EXPIRED
    assert not Purchase.objects.exists()
    with pytest.raises(CheckoutRefused, match="expired"):
        checkout_cancel(checkout=checkout, customer=line.customer)


def test_a_cancelled_checkout_cannot_be_paid(merchant, line):
    checkout = checkout_cancel(checkout=create(merchant), customer=line.customer)
    assert checkout.status == CheckoutStatus.CANCELLED
    assert checkout_cancel(checkout=checkout, customer=line.customer).status == "cancelled"
    with pytest.raises(CheckoutRefused, match="cancelled"):
        checkout_confirm(checkout=checkout, customer=line.customer)


def test_a_paid_checkout_cannot_be_cancelled(merchant, line):
    checkout = checkout_confirm(checkout=create(merchant), customer=line.customer)
    with pytest.raises(CheckoutRefused, match="paid already"):
        checkout_cancel(checkout=checkout, customer=line.customer)


def test_a_refund_is_idempotent_by_reference(merchant, line):
    checkout = checkout_confirm(checkout=create(merchant), customer=line.customer)
    first = checkout_refund(checkout=checkout, amount="50.00", reference="r-1")
    assert checkout_refund(checkout=checkout, amount="50.00", reference="r-1").pk == first.pk
    with pytest.raises(IdempotencyConflict):
        checkout_refund(checkout=checkout, amount="60.00", reference="r-1")
    checkout.purchase.refresh_from_db()
    assert checkout.purchase.refunded == Decimal("50.00")
    line.refresh_from_db()
    assert line.outstanding_principal == Decimal("149.00")  # unbilled: off the line at once


def test_an_unpaid_checkout_has_nothing_to_refund(merchant):
    with pytest.raises(CheckoutRefused, match="nothing to refund"):
        checkout_refund(checkout=create(merchant), amount="1.00", reference="r-1")
