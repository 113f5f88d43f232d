"""The pay-later line's customer pages (花呗): home, statements, purchases, plans, paying,
converting into instalments, early settlement and the credit balance.

The story: a line with a 5,000.00 limit, statement day 1, due 9 days later; purchases of
600.00 and 200.00 on 15 January are billed on the statement of 1 February (800.00, due
10 February, minimum 10 % = 80.00); the pages are read on 2 February."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lending.models import (
    CreditBalanceRefund,
    InstalmentPlan,
    PayLaterPayment,
    PlanPartStatus,
    PlanStatus,
    Statement,
)
from lending.rules.plans import quote_plan
from lending.services import (
    line_pay,
    plan_quote_fingerprint,
    plan_quote_for_purchase,
    purchase_convert,
    purchase_create,
    purchase_refund,
    statements_cut,
)
from tests.factories import (
    MerchantFactory,
    PayLaterLineFactory,
    UserFactory,
    set_business_date,
)

pytestmark = pytest.mark.django_db

D = Decimal
CUT = date(2026, 2, 1)
TODAY = date(2026, 2, 2)


@pytest.fixture
def shop(db):
    return MerchantFactory()


@pytest.fixture
def card(db):
    set_business_date(date(2026, 1, 10))
    return PayLaterLineFactory(opened_on=date(2026, 1, 10))


_orders = iter(range(1, 100_000))


def buy(card, shop, amount, description=""):
    return purchase_create(
        line=card,
        merchant=shop,
        amount=amount,
        order_reference=f"order-{next(_orders)}",
        description=description,
    )


def cut(day):
    """The close of `day` cuts its statements; the next business day follows."""
    set_business_date(day)
    statements_cut(day=day)


@pytest.fixture
def billed(card, shop):
    """The story's statement: (sofa 600.00, lamp 200.00, the statement of 1 February)."""
    set_business_date(date(2026, 1, 15))
    sofa = buy(card, shop, "600.00", "Sofa")
    lamp = buy(card, shop, "200.00", "Lamp")
    cut(CUT)
    set_business_date(TODAY)
    for purchase in (sofa, lamp):
        purchase.refresh_from_db()
    return sofa, lamp, Statement.objects.get(line=card)


@pytest.fixture
def owner(client, card):
    client.force_login(card.customer)
    return client


@pytest.fixture
def stranger(client, db):
    """Another customer, with a pay-later line of their own."""
    other = PayLaterLineFactory(opened_on=date(2026, 1, 10)).customer
    client.force_login(other)
    return client


def page(client, name, *args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


# Each page for its owner, and nobody else


def test_home_shows_the_line_and_the_open_statement(owner, billed, card):
    html = page(owner, "pay_later_home")
    assert "4,200.00" in html  # available: 5,000.00 - 800.00
    assert "800.00" in html  # the statement's balance
    assert "80.00" in html  # its minimum
    assert "10 Feb 2026" in html  # its due date
    assert "1 Mar 2026" in html  # the next statement day
    assert reverse("pay_later_statement", args=[billed[2].pk]) in html


def test_the_dashboard_links_to_the_pay_later_home(owner, card):
    assert reverse("pay_later_home") in page(owner, "dashboard")


def test_statement_pages_list_and_show_the_items(owner, billed):
    sofa, lamp, statement = billed
    assert reverse("pay_later_statement", args=[statement.pk]) in page(
        owner, "pay_later_statements"
    )
    html = page(owner, "pay_later_statement", statement.pk)
    assert "Sofa" in html and "Lamp" in html
    assert "Open" in html
    assert "800.00" in html and "80.00" in html


def test_purchase_pages_list_and_show_a_refund_and_where_it_went(owner, billed):
    sofa, lamp, statement = billed
    purchase_refund(purchase=lamp, amount="50.00", reference="r-1")
    html = page(owner, "pay_later_purchases")
    assert "Sofa" in html and "Lamp" in html
    assert "50.00" in html
    html = page(owner, "pay_later_purchase", lamp.pk)
    assert "50.00 CNY off your" in html
    assert reverse("pay_later_statement", args=[statement.pk]) in html


@pytest.mark.parametrize(
    "name", ["pay_later_statement", "pay_later_purchase", "pay_later_plan", "pay_later_plan_settle"]
)
def test_another_customers_rows_do_not_exist(stranger, billed, name):
    sofa, lamp, statement = billed
    plan = convert(sofa, 3)
    pk = {"pay_later_statement": statement.pk, "pay_later_purchase": sofa.pk}.get(name, plan.pk)
    assert stranger.get(reverse(name, args=[pk])).status_code == 404


def test_another_customers_statement_cannot_be_converted(stranger, billed):
    sofa, lamp, statement = billed
    for name in ("pay_later_statement_convert", "pay_later_purchase_convert"):
        pk = statement.pk if "statement" in name else sofa.pk
        assert stranger.get(reverse(name, args=[pk]), {"term_months": 3}).status_code == 404


def test_staff_without_a_line_get_a_plain_page(client, billed, admin_user):
    client.force_login(admin_user)
    for name in (
        "pay_later_home",
        "pay_later_statements",
        "pay_later_purchases",
        "pay_later_plans",
        "pay_later_pay",
    ):
        assert "You have no pay-later line." in page(client, name)
    statement = billed[2]
    assert client.get(reverse("pay_later_statement", args=[statement.pk])).status_code == 404


@pytest.mark.parametrize("name", ["pay_later_statements", "pay_later_purchases", "pay_later_plans"])
def test_each_list_is_read_in_the_same_queries_however_long(owner, card, shop, name):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            page(owner, name)
        return len(captured)

    set_business_date(date(2026, 1, 15))
    convert(buy(card, shop, "300.00"), 3)
    cut(CUT)
    few = queries()
    set_business_date(date(2026, 2, 15))
    for _ in range(3):
        convert(buy(card, shop, "300.00"), 6)
    cut(date(2026, 3, 1))
    assert queries() == few


# Paying


def test_the_pay_form_offers_in_full_the_minimum_and_another_amount(owner, billed):
    response = owner.get(reverse("pay_later_pay"))
    choices = dict(response.context["form"].fields["choice"].choices)
    assert list(choices) == ["full", "minimum", "other"]
    assert "800.00" in choices["full"]
    assert "80.00" in choices["minimum"]


def pay_form(response, **data):
    form = response.context["form"]
    return {
        "idempotency_key": form["idempotency_key"].value(),
        "full_amount": form["full_amount"].value(),
        "minimum_amount": form["minimum_amount"].value(),
        **data,
    }


def test_more_than_owed_is_refused_on_the_amount(owner, billed):
    shown = owner.get(reverse("pay_later_pay"))
    response = owner.post(reverse("pay_later_pay"), pay_form(shown, choice="other", amount="900"))
    assert response.status_code == 200
    assert "more than you owe" in " ".join(response.context["form"].errors["amount"])
    assert not PayLaterPayment.objects.exists()


def test_paying_the_minimum_books_it_and_a_replay_pays_once(owner, billed):
    statement = billed[2]
    shown = owner.get(reverse("pay_later_pay"))
    data = pay_form(shown, choice="minimum")
    response = owner.post(reverse("pay_later_pay"), data)
    assert response.status_code == 302
    assert owner.post(reverse("pay_later_pay"), data).status_code == 302
    payment = PayLaterPayment.objects.get()
    assert payment.amount == D("80.00")
    statement.refresh_from_db()
    assert statement.balance == D("720.00")
    html = page(owner, "pay_later_home")
    assert "your payment of 80.00 CNY is booked" in html


def test_other_amount_needs_an_amount(owner, billed):
    shown = owner.get(reverse("pay_later_pay"))
    response = owner.post(reverse("pay_later_pay"), pay_form(shown, choice="other", amount=""))
    assert response.context["form"].errors["amount"] == ["Enter the amount you want to pay."]


# Converting into instalments (分期)


def convert(purchase, term):
    quote = plan_quote_for_purchase(purchase=purchase, term_months=term)
    return purchase_convert(
        purchase=purchase, term_months=term, shown=plan_quote_fingerprint(quote)
    )


def test_the_purchase_preview_shows_the_apr_and_each_part(owner, billed):
    sofa = billed[0]
    response = owner.get(reverse("pay_later_purchase_convert", args=[sofa.pk]), {"term_months": 6})
    html = response.content.decode()
    # 600.00 in 6 parts at a total fee of 4.5 %: 27.00 of fee, 100.00 + 4.50 a month.
    expected = quote_plan(principal=D("600.00"), term_months=6, fee_rate=D("0.045"))
    assert f'data-testid="plan-apr">{expected.apr}%' in html
    assert html.count("104.50") >= 6
    assert "27.00" in html
    assert "4.5% of the amount" in html
    # The APR comes before the fee rate, in the larger type.
    assert html.index('data-testid="plan-apr"') < html.index('data-testid="plan-fee-rate"')
    assert not InstalmentPlan.objects.exists()


def test_confirming_the_preview_books_the_plan(owner, billed):
    sofa, lamp, statement = billed
    preview = owner.get(reverse("pay_later_purchase_convert", args=[sofa.pk]), {"term_months": 6})
    confirm = preview.context["confirm"]
    response = owner.post(
        reverse("pay_later_purchase_convert_confirm", args=[sofa.pk]),
        {"term_months": confirm["term_months"].value(), "shown": confirm["shown"].value()},
    )
    plan = InstalmentPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pay_later_plan", args=[plan.pk])
    assert (plan.principal, plan.term_months, plan.fee_total) == (D("600.00"), 6, D("27.00"))
    statement.refresh_from_db()
    assert statement.balance == D("200.00")
    html = page(owner, "pay_later_plan", plan.pk)
    assert html.count("Not yet billed") == 6


def test_a_stale_preview_is_refused_with_the_new_figures(owner, billed):
    sofa = billed[0]
    response = owner.post(
        reverse("pay_later_purchase_convert_confirm", args=[sofa.pk]),
        {"term_months": 6, "shown": "a-quote-from-before-a-refund"},
    )
    assert response.status_code == 200
    assert "The figures have changed since you saw them" in response.content.decode()
    assert response.context["quote"].principal == D("600.00")
    assert not InstalmentPlan.objects.exists()


def test_the_statement_can_be_converted_from_its_page(owner, billed):
    statement = billed[2]
    assert reverse("pay_later_statement_convert", args=[statement.pk]) in page(
        owner, "pay_later_statement", statement.pk
    )
    preview = owner.get(
        reverse("pay_later_statement_convert", args=[statement.pk]), {"term_months": 3}
    )
    assert preview.context["quote"].principal == D("800.00")
    confirm = preview.context["confirm"]
    owner.post(
        reverse("pay_later_statement_convert_confirm", args=[statement.pk]),
        {"term_months": 3, "shown": confirm["shown"].value()},
    )
    plan = InstalmentPlan.objects.get()
    assert (plan.source, plan.principal) == ("statement", D("800.00"))


def test_a_term_the_product_does_not_offer_is_a_form_error(owner, billed):
    response = owner.get(
        reverse("pay_later_purchase_convert", args=[billed[0].pk]), {"term_months": 5}
    )
    assert "term_months" in response.context["form"].errors


# Settling a plan early (提前还款)


def test_settle_early_shows_the_principal_and_the_fees_waived_then_settles(owner, billed):
    plan = convert(billed[0], 6)
    html = page(owner, "pay_later_plan_settle", plan.pk)
    assert 'data-testid="settle-principal">600.00' in html
    assert 'data-testid="settle-fees-waived">27.00' in html
    form = owner.get(reverse("pay_later_plan_settle", args=[plan.pk])).context["form"]
    data = {"idempotency_key": form["idempotency_key"].value()}
    response = owner.post(reverse("pay_later_plan_settle", args=[plan.pk]), data)
    assert response.status_code == 302
    owner.post(reverse("pay_later_plan_settle", args=[plan.pk]), data)  # a double click
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SETTLED
    assert PayLaterPayment.objects.get().amount == D("600.00")
    assert set(plan.parts.values_list("status", flat=True)) == {PlanPartStatus.CANCELLED}


# The credit balance


def test_a_credit_balance_can_be_paid_back(owner, billed, card):
    sofa, lamp, statement = billed
    line_pay(line=card, amount="800.00", scope="test", idempotency_key="all")
    purchase_refund(purchase=lamp, amount="200.00", reference="r-1")  # the statement was paid
    card.refresh_from_db()
    assert card.credit_balance == D("200.00")
    html = page(owner, "pay_later_home")
    assert "Pay it back to me" in html
    response = owner.post(reverse("pay_later_credit_pay_back"))
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.credit_balance == D("0.00")
    assert CreditBalanceRefund.objects.get().amount == D("200.00")
    assert "Pay it back to me" not in page(owner, "pay_later_home")


def test_no_credit_balance_no_button(owner, billed):
    assert "Pay it back to me" not in page(owner, "pay_later_home")


def test_a_customer_without_a_line_gets_a_plain_page(client, db):
    client.force_login(UserFactory())
    assert "You have no pay-later line." in page(client, "pay_later_home")
