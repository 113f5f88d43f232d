"""The customer's lending pages: dashboard, borrow (quote, confirm), the loan page, repay."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from core.audit import actor_system
from core.models import IdempotencyRecord
from lending.models import (
    JournalEntry,
    Loan,
    LoanStatus,
    Repayment,
)
from lending.services import credit_line_freeze, loan_originate
from operations.nightly_close import business_days_advance
from tests.factories import (
    CashLoanProductFactory,
    CreditLineFactory,
    UserFactory,
    set_business_date,
)

pytestmark = pytest.mark.django_db

D = Decimal
START = date(2026, 1, 31)


@pytest.fixture(autouse=True)
def business_day(reference_data):
    set_business_date(START)


@pytest.fixture
def customer(line):
    return line.customer


@pytest.fixture
def browser_client(client, customer):
    client.force_login(customer)
    return client


def borrow_form(line, **overrides):
    return {"line": line.pk, "amount": "10000", "term_months": "12",
            "method": "equal_instalment", **overrides}


def confirm_form_of(response):
    """What the confirm form shown with a quote will post back."""
    confirm = response.context["confirm"]
    return {name: str(confirm[name].value()) for name in confirm.fields}


def quote_then_confirm_form(client, line, **overrides):
    response = client.post(reverse("borrow"), borrow_form(line, **overrides))
    assert response.status_code == 200, response.content
    return confirm_form_of(response)


def originate(line, principal="10000", key="k1"):
    return loan_originate(line_id=line.pk, principal=principal, term_months=12,
                          method="equal_instalment", idempotency_key=key,
                          scope=f"user:{line.customer.pk}")


def nothing_moved():
    return (Loan.objects.count(), Repayment.objects.count(), JournalEntry.objects.count(),
            IdempotencyRecord.objects.count())


# Dashboard

def test_dashboard_shows_each_line_with_apr_above_the_daily_rate(browser_client, line):
    originate(line, principal="12000")
    page = browser_client.get(reverse("dashboard")).content.decode()
    assert "Cash loan" in page
    assert "50,000.00" in page  # limit
    assert "12,000.00" in page  # outstanding
    assert "38,000.00 <span class=\"cur\">CNY</span>" in page  # available, the headline
    assert "0.050% a day" in page
    # From 3 months equal principal to 12 months interest first, on 31 January 2026.
    assert 'data-testid="line-apr">17.59–18.24%</div>' in page
    assert page.index('data-testid="line-apr"') < page.index("0.050% a day")
    assert "Borrow cash</a>" in page


def test_dashboard_lists_the_customers_loans_with_status_and_days_past_due(browser_client, line):
    loan = originate(line)
    page = browser_client.get(reverse("dashboard")).content.decode()
    assert f'href="/loans/{loan.pk}/"' in page
    assert "10,000.00" in page
    assert "Active" in page


def test_dashboard_offers_to_apply_without_a_line(client):
    client.force_login(UserFactory())
    page = client.get(reverse("dashboard")).content.decode()
    assert "You have no credit line yet." in page
    assert f'href="{reverse("apply")}">Apply for credit</a>' in page
    assert "You have no loans." in page


# Borrow: quote, then confirm

def test_borrow_page_offers_the_products_terms_and_methods(browser_client, line):
    page = browser_client.get(reverse("borrow")).content.decode()
    for term in (3, 6, 12):
        assert f'value="{term}"' in page
    assert "Equal instalments" in page and "Equal principal" in page
    # One line: nothing to choose, it travels as a hidden field.
    assert f'<input type="hidden" name="line" value="{line.pk}"' in page


def test_quote_shows_the_exact_schedule_and_apr_and_books_nothing(browser_client, line):
    before = nothing_moved()
    response = browser_client.post(reverse("borrow"), borrow_form(line))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="quote-apr">18.12%' in page
    # The worked example of tests/lending/test_origination.py: first instalment on Feb 28.
    assert "<td>2026-02-28</td><td class=\"num\">28</td><td class=\"num\">776.80</td>" \
           "<td class=\"num\">140.00</td><td class=\"num\">916.80</td>" in page
    quote = response.context["quote"]
    assert len(quote.instalments) == 12
    assert f"{quote.total_interest:,.2f}" in page
    assert nothing_moved() == before


def test_confirm_books_the_quoted_loan_and_shows_its_page(browser_client, line):
    data = quote_then_confirm_form(browser_client, line)
    response = browser_client.post(reverse("borrow_confirm"), data)
    loan = Loan.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("loan", args=[loan.pk])
    assert (loan.principal, loan.term_months, loan.apr) == (D("10000.00"), 12, D("18.12"))
    page = browser_client.get(response.url).content.decode()
    assert "Your loan of 10,000.00 CNY is on its way." in page
    assert 'data-testid="loan-apr">18.12%' in page
    assert page.count('<tr class="status-pending">') == 12


def test_a_double_submitted_confirmation_makes_one_loan(browser_client, line):
    data = quote_then_confirm_form(browser_client, line)
    first = browser_client.post(reverse("borrow_confirm"), data)
    second = browser_client.post(reverse("borrow_confirm"), data)
    assert Loan.objects.count() == 1
    assert first.url == second.url == reverse("loan", args=[Loan.objects.get().pk])
    line.refresh_from_db()
    assert line.outstanding_principal == D("10000.00")


def test_a_resubmitted_confirmation_shows_its_loan_even_with_the_credit_used(browser_client,
                                                                             line):
    """The second submission must not be refused for the credit its first one drew."""
    data = quote_then_confirm_form(browser_client, line, amount="40000")
    first = browser_client.post(reverse("borrow_confirm"), data)
    credit_line_freeze(line_id=line.pk, reason="Fraud check", actor=actor_system("tests"))
    second = browser_client.post(reverse("borrow_confirm"), data)
    assert Loan.objects.count() == 1
    assert first.url == second.url == reverse("loan", args=[Loan.objects.get().pk])


def test_each_quote_gets_its_own_key_so_two_loans_are_two_confirmations(browser_client, line):
    for _ in range(2):
        browser_client.post(reverse("borrow_confirm"),
                            quote_then_confirm_form(browser_client, line, amount="1000"))
    assert Loan.objects.count() == 2


BAD_BORROW_INPUT = [
    ({"amount": "-5"}, "The amount must be more than zero."),
    ({"amount": "0"}, "The amount must be more than zero."),
    ({"amount": "ten thousand"}, "Enter the amount as a number, like 1000 or 1000.50."),
    ({"amount": "10000.005"}, "Use at most two decimals (cents)."),
    ({"amount": "1" * 17}, "That amount is too large."),
    ({"amount": ""}, "This field is required."),
    ({"amount": "60000"}, "Only 50,000.00 CNY is available on this line."),
    ({"amount": "100"}, "The amount must be between 500.00 and 200000.00."),
    ({"term_months": "7"}, "Select a valid choice. 7 is not one of the available choices."),
    ({"term_months": "twelve"}, "Select a valid choice."),
    ({"method": "bogus"}, "Select a valid choice. bogus is not one of the available choices."),
]


@pytest.mark.parametrize("overrides, message", BAD_BORROW_INPUT)
def test_bad_borrow_input_is_a_message_at_the_quote(browser_client, line, overrides, message):
    before = nothing_moved()
    response = browser_client.post(reverse("borrow"), borrow_form(line, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "quote" not in response.context
    assert nothing_moved() == before


@pytest.mark.parametrize("overrides, message", BAD_BORROW_INPUT)
def test_bad_borrow_input_is_a_message_at_the_confirmation(browser_client, line, overrides,
                                                           message):
    """A tampered confirmation is held to the same rules and books nothing."""
    data = {**quote_then_confirm_form(browser_client, line), **overrides}
    before = nothing_moved()
    response = browser_client.post(reverse("borrow_confirm"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert nothing_moved() == before


def test_a_term_offered_by_another_line_only_is_refused(browser_client, line, customer):
    short = CashLoanProductFactory(code="short", name="Short cash", allowed_terms=[3])
    other = CreditLineFactory(customer=customer, product=short)
    page = browser_client.get(reverse("borrow")).content.decode()
    assert "<select" in page and "Short cash" in page  # two lines: the customer picks one
    response = browser_client.post(reverse("borrow"), borrow_form(other, term_months="12"))
    assert "Short cash is offered for 3 months." in response.content.decode()
    assert not Loan.objects.exists()


def test_a_confirmation_without_its_key_books_nothing(browser_client, line):
    data = quote_then_confirm_form(browser_client, line)
    del data["idempotency_key"]
    response = browser_client.post(reverse("borrow_confirm"), data)
    assert "get a new quote" in response.content.decode()
    assert not Loan.objects.exists()


def test_a_quote_from_an_earlier_business_date_is_not_booked(browser_client, line):
    data = quote_then_confirm_form(browser_client, line)
    business_days_advance(days=1)
    response = browser_client.post(reverse("borrow_confirm"), data)
    assert "The business date has moved on since this quote" in response.content.decode()
    assert not Loan.objects.exists()


def test_credit_used_elsewhere_after_the_quote_is_a_message(browser_client, line):
    data = quote_then_confirm_form(browser_client, line, amount="40000")
    originate(line, principal="20000", key="meanwhile")
    response = browser_client.post(reverse("borrow_confirm"), data)
    assert "Only 30,000.00 CNY is available on this line." in response.content.decode()
    assert Loan.objects.count() == 1


def test_a_frozen_line_cannot_be_drawn(browser_client, line):
    data = quote_then_confirm_form(browser_client, line)
    credit_line_freeze(line_id=line.pk, reason="Fraud check", actor=actor_system("tests"))
    assert 'data-testid="no-cash-line"' in browser_client.get(reverse("borrow")).content.decode()
    response = browser_client.post(reverse("borrow_confirm"), data)
    assert response.status_code == 200
    assert 'data-testid="no-cash-line"' in response.content.decode()
    assert "This credit line is frozen." in response.content.decode()
    assert not Loan.objects.exists()


def test_another_customers_line_is_not_a_choice(browser_client, line):
    stranger_line = CreditLineFactory()
    response = browser_client.post(reverse("borrow"), borrow_form(stranger_line))
    assert "Select a valid choice." in response.content.decode()
    assert "quote" not in response.context


# The loan page and repaying

def test_loan_page_shows_schedule_outstanding_apr_and_payoff(browser_client, line):
    loan = originate(line)
    business_days_advance(days=10)
    page = browser_client.get(reverse("loan", args=[loan.pk])).content.decode()
    assert 'data-testid="loan-apr">18.12%' in page
    assert 'data-testid="loan-outstanding">10,000.00' in page
    # Ten days of interest on 10,000 at 0.05 % a day.
    assert 'data-testid="loan-payoff">10,050.00' in page
    assert '<td class="lead-2">2026-02-28</td>' in page
    assert '<td class="lead-2">2027-01-31</td>' in page
    assert "776.80" in page and "140.00" in page
    assert "No repayments yet." in page


def test_repay_books_a_repayment_and_lists_it(browser_client, line):
    loan = originate(line)
    page = browser_client.get(reverse("loan", args=[loan.pk]))
    key = page.context["repay_form"]["idempotency_key"].value()
    response = browser_client.post(reverse("repay", args=[loan.pk]),
                                   {"amount": "1000.00", "idempotency_key": key})
    assert response.status_code == 302
    repayment = Repayment.objects.get()
    assert repayment.amount == D("1000.00")
    page = browser_client.get(response.url).content.decode()
    assert "your payment of 1,000.00 CNY is booked" in page
    assert 'data-testid="repayments"' in page


def test_a_double_submitted_repayment_is_booked_once(browser_client, line):
    loan = originate(line)
    data = {"amount": "500", "idempotency_key": "same-click"}
    for _ in range(2):
        browser_client.post(reverse("repay", args=[loan.pk]), data)
    assert Repayment.objects.count() == 1


def test_paying_off_through_the_payoff_form_settles_the_loan(browser_client, line):
    loan = originate(line)
    business_days_advance(days=10)
    page = browser_client.get(reverse("loan", args=[loan.pk]))
    payoff = page.context["payoff_form"]
    data = {name: str(payoff[name].value()) for name in payoff.fields}
    assert data["amount"] == "10050.00"
    response = browser_client.post(reverse("repay", args=[loan.pk]), data)
    assert response.status_code == 302
    loan.refresh_from_db()
    assert loan.status == LoanStatus.PAID_OFF
    line.refresh_from_db()
    assert line.outstanding_principal == 0
    page = browser_client.get(reverse("loan", args=[loan.pk])).content.decode()
    assert "Paid off on" in page
    assert 'data-testid="repay-form"' not in page


@pytest.mark.parametrize("amount, message", [
    ("-1", "The amount must be more than zero."),
    ("0", "The amount must be more than zero."),
    ("abc", "Enter the amount as a number, like 1000 or 1000.50."),
    ("10.001", "Use at most two decimals (cents)."),
    ("", "This field is required."),
    ("10000.01", "The payment of 10000.01 is more than the 10000.00 that settles this loan"),
])
def test_bad_repayment_input_is_a_message_and_books_nothing(browser_client, line, amount,
                                                            message):
    loan = originate(line)
    before = nothing_moved()
    response = browser_client.post(reverse("repay", args=[loan.pk]),
                                   {"amount": amount, "idempotency_key": "r1"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert nothing_moved() == before


def test_a_settled_loan_refuses_more_money_with_a_message(browser_client, line):
    loan = originate(line)
    browser_client.post(reverse("repay", args=[loan.pk]),
                        {"amount": "10000.00", "idempotency_key": "payoff"})
    response = browser_client.post(reverse("repay", args=[loan.pk]),
                                   {"amount": "1.00", "idempotency_key": "again"})
    assert "This loan is already settled." in response.content.decode()
    assert Repayment.objects.count() == 1


def test_another_customers_loan_is_not_found(browser_client, line):
    stranger_loan = originate(CreditLineFactory(), key="theirs")
    assert browser_client.get(reverse("loan", args=[stranger_loan.pk])).status_code == 404
    response = browser_client.post(reverse("repay", args=[stranger_loan.pk]),
                                   {"amount": "100", "idempotency_key": "x"})
    assert response.status_code == 404
    assert not Repayment.objects.exists()


@pytest.mark.parametrize("method, name, args", [
    ("get", "dashboard", []),
    ("get", "borrow", []),
    ("post", "borrow_confirm", []),
    ("get", "loan", [1]),
    ("post", "repay", [1]),
])
def test_anonymous_visitors_are_sent_to_log_in(client, method, name, args):
    url = reverse(name, args=args)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"
    assert not Loan.objects.exists()
