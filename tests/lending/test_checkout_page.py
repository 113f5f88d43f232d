"""The customer's checkout page: signed in, the merchant, the amount, the available credit and
the interest-free due date; confirm and cancel send the customer back to the merchant with the
checkout's status; the reasons a customer cannot pay, in words."""

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from lending.models import CheckoutStatus, CreditLine, Purchase
from lending.services import checkout_create
from tests.factories import MerchantFactory, PayLaterLineFactory, UserFactory, set_business_date

RETURN_URL = "https://shop.example.com/orders/return?order=A-1"


@pytest.fixture
def checkout(db):
    return checkout_create(
        merchant=MerchantFactory(),
        amount="300.00",
        order_reference="A-1",
        description="Folding bicycle",
        return_url=RETURN_URL,
        idempotency_key="k-1",
    )


@pytest.fixture
def line(db):
    # Statement day 5, due 9 days after: a purchase on 2026-03-10 is billed on 5 April, due on
    # 14 April.
    set_business_date(date(2026, 3, 10))
    return PayLaterLineFactory(credit_limit=Decimal("1000.00"), statement_day=5)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def page(checkout):
    return reverse("checkout", args=[checkout.token])


def test_signing_in_comes_back_to_the_checkout(checkout):
    response = Client().get(page(checkout))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={page(checkout)}"


def test_the_page_shows_merchant_amount_available_and_due_date(checkout, line):
    response = signed_in(line.customer).get(page(checkout), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Demo shop" in body and "Folding bicycle" in body
    assert "300.00" in body and "1,000.00" in body
    assert 'datetime="2026-04-14"' in body  # the interest-free due date
    assert 'datetime="2026-04-05"' in body  # the statement that bills it
    assert 'data-testid="checkout-confirm"' in body


def test_the_page_in_chinese(checkout, line):
    response = signed_in(line.customer).get(page(checkout), HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert "免息还款日" in body and "可用额度" in body and "确认付款" in body


def test_confirm_pays_and_sends_the_customer_back_with_the_status(checkout, line):
    client = signed_in(line.customer)
    response = client.post(reverse("checkout_confirm", args=[checkout.token]))
    assert response.status_code == 302
    sent_to = urlsplit(response["Location"])
    assert response["Location"].startswith("https://shop.example.com/orders/return?")
    assert parse_qs(sent_to.query) == {
        "order": ["A-1"],
        "checkout": [checkout.token],
        "status": ["confirmed"],
    }
    # The browser posts again (a double click, a reload): the same answer, one purchase.
    again = client.post(reverse("checkout_confirm", args=[checkout.token]))
    assert again["Location"] == response["Location"]
    assert Purchase.objects.count() == 1
    assert CreditLine.objects.get(pk=line.pk).outstanding_principal == Decimal("300.00")


def test_cancel_sends_the_customer_back_with_the_status(checkout, line):
    response = signed_in(line.customer).post(reverse("checkout_cancel", args=[checkout.token]))
    assert parse_qs(urlsplit(response["Location"]).query)["status"] == ["cancelled"]
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.CANCELLED


def test_a_customer_without_a_pay_later_line_is_told_so(checkout):
    response = signed_in(UserFactory()).get(page(checkout), HTTP_ACCEPT_LANGUAGE="en")
    assert "You have no pay-later line to pay with." in response.content.decode()
    assert 'data-testid="checkout-confirm"' not in response.content.decode()


def test_a_frozen_line_is_told_so(checkout, line):
    CreditLine.objects.filter(pk=line.pk).update(status="frozen", frozen_by="officer")
    body = signed_in(line.customer).get(page(checkout), HTTP_ACCEPT_LANGUAGE="en").content
    assert b"Your pay-later line is frozen" in body


def test_an_amount_above_the_available_credit_is_refused_with_the_lines_reason(checkout, line):
    CreditLine.objects.filter(pk=line.pk).update(credit_limit=Decimal("299.99"))
    client = signed_in(line.customer)
    assert (
        b"more than your available credit"
        in client.get(page(checkout), HTTP_ACCEPT_LANGUAGE="en").content
    )
    # Posted anyway (the page was open before the limit fell): the line's refusal, shown.
    response = client.post(
        reverse("checkout_confirm", args=[checkout.token]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert b"is more than your available credit" in response.content
    assert not Purchase.objects.exists()


def test_an_unknown_token_is_a_404(line):
    assert signed_in(line.customer).get("/checkout/not-a-checkout/").status_code == 404


def test_the_demo_shop_exists_only_where_it_is_switched_on(settings, db):
    settings.DEMO_SHOP = False
    assert Client().get("/demo-shop/").status_code == 404
    settings.DEMO_SHOP = True
    response = Client().get("/demo-shop/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.content.count(b"Pay with") == 3
