"""The customer's apply page, the decision page and accepting an offer through them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from lending.models import CreditLine
from risk.models import CreditDecision, DecisionOutcome
from risk.scoring import champion_cache_clear
from tests.factories import CashLoanProductFactory, UserFactory, set_business_date
from tests.risk.champion import RISKY, applicant, champion_install

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def business_day(reference_data, settings):
    settings.RISK_CHAMPION_RECHECK_SECONDS = 0
    set_business_date(TODAY)
    champion_cache_clear()
    yield
    champion_cache_clear()


@pytest.fixture
def product():
    return CashLoanProductFactory()


@pytest.fixture
def model():
    return champion_install()


def apply_as(client, customer, product):
    client.force_login(customer)
    return client.post(reverse("apply"), {"product": product.pk})


@pytest.mark.parametrize("name, args", [("apply", []), ("decision", [1]),
                                        ("decision_accept", [1])])
def test_anonymous_visitors_are_sent_to_log_in(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url) if name != "decision_accept" else client.post(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_without_a_profile_the_page_links_to_it(client, product):
    client.force_login(UserFactory())
    page = client.get(reverse("apply")).content.decode()
    assert 'data-testid="apply-needs-profile"' in page
    assert f'href="{reverse("profile")}"' in page
    response = client.post(reverse("apply"), {"product": product.pk})
    assert response.status_code == 200
    assert not CreditDecision.objects.exists()


def test_one_product_needs_no_choice(client, product):
    client.force_login(applicant())
    page = client.get(reverse("apply")).content.decode()
    assert f'type="hidden" name="product" value="{product.pk}"' in page
    assert 'type="radio"' not in page


def test_several_products_are_a_choice(client, product):
    other = CashLoanProductFactory(code="big", name="Big cash loan")
    CashLoanProductFactory(code="old", name="Old product", is_active=False)
    client.force_login(applicant())
    page = client.get(reverse("apply")).content.decode()
    assert page.count('type="radio" name="product"') == 2
    assert "Big cash loan" in page and "Old product" not in page
    assert f'value="{other.pk}"' in page


@pytest.mark.parametrize("posted", [{}, {"product": "x"}, {"product": "999999"}])
def test_bad_input_is_a_form_error_never_a_500(client, model, product, posted):
    CashLoanProductFactory(code="closed", is_active=False)
    client.force_login(applicant())
    response = client.post(reverse("apply"), posted)
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page or "Choose one of the products shown." in page
    assert not CreditDecision.objects.exists()


def test_a_closed_product_cannot_be_applied_for(client, model, product):
    closed = CashLoanProductFactory(code="closed", is_active=False)
    response = apply_as(client, applicant(), closed)
    assert "Choose one of the products shown." in response.content.decode()


def test_no_champion_is_shown_on_the_page(client, product):
    response = apply_as(client, applicant(), product)
    assert response.status_code == 200
    assert "No application model has been promoted to champion yet." in \
        response.content.decode()
    assert not CreditDecision.objects.exists()


def test_approval_shows_the_offer_with_the_apr_first_and_accepting_opens_the_line(
        client, model, product):
    customer = applicant()
    response = apply_as(client, customer, product)
    decision = CreditDecision.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("decision", args=[decision.pk])
    assert decision.outcome == DecisionOutcome.APPROVED

    page = client.get(response.url).content.decode()
    assert "You are approved" in page
    assert f'data-testid="offer-apr">{decision.apr}%' in page
    assert '120,000.00 <span class="cur">CNY' in page
    assert "0.02% a day" in page
    # The APR stands out more than the daily rate: a headline figure, before it on the page.
    assert page.index('data-testid="offer-apr"') < page.index('data-testid="offer-daily-rate"')
    assert 'class="big" data-testid="offer-apr"' in page
    assert 'class="small" data-testid="offer-daily-rate"' in page
    for reason in decision.reasons:
        assert reason in page
    assert "Offer valid until</dt><dd>9 Apr 2026" in page  # a date in a sentence
    assert "Accept this offer" in page

    response = client.post(reverse("decision_accept", args=[decision.pk]))
    assert response.status_code == 302 and response.url == reverse("dashboard")
    line = CreditLine.objects.get(customer=customer)
    assert line.credit_limit == Decimal("120000.00")
    dashboard = client.get(response.url).content.decode()
    assert "line is ready" in dashboard
    assert "Apply for credit</a>" not in dashboard

    page = client.get(reverse("decision", args=[decision.pk])).content.decode()
    assert 'data-testid="offer-accepted"' in page and "Accept this offer" not in page
    client.post(reverse("decision_accept", args=[decision.pk]))
    assert CreditLine.objects.count() == 1


def test_a_decline_shows_its_reasons_and_the_reapply_date(client, model, product):
    apply_as(client, applicant(**RISKY), product)
    decision = CreditDecision.objects.get()
    page = client.get(reverse("decision", args=[decision.pk])).content.decode()
    assert "We cannot offer you credit now" in page
    assert "Some of your bills were paid late in the last year." in page
    for reason in decision.reasons:
        assert reason in page
    assert 'You may apply again from <strong><time datetime="2026-04-09">9 Apr 2026' in page
    assert "Accept this offer" not in page
    assert 'data-testid="offer-apr"' not in page


def test_a_policy_decline_shows_the_rules_reason(client, product):
    apply_as(client, applicant(consent_credit_check=False), product)
    page = client.get(reverse("decision", args=[CreditDecision.objects.get().pk])
                      ).content.decode()
    assert "We need your consent to a credit check" in page
    assert "2026-04-09" in page


def test_accepting_a_declined_decision_is_a_message_not_a_line(client, model, product):
    apply_as(client, applicant(**RISKY), product)
    decision = CreditDecision.objects.get()
    response = client.post(reverse("decision_accept", args=[decision.pk]), follow=True)
    assert "Only an approved offer can be accepted." in response.content.decode()
    assert not CreditLine.objects.exists()


def test_an_expired_offer_says_so_and_links_to_apply_again(client, model, product):
    apply_as(client, applicant(), product)
    decision = CreditDecision.objects.get()
    set_business_date(TODAY + timedelta(days=31))
    page = client.get(reverse("decision", args=[decision.pk])).content.decode()
    assert "This offer expired on 9 Apr 2026." in page
    assert "Accept this offer" not in page


def test_another_customers_decision_is_a_404(client, model, product):
    apply_as(client, applicant(), product)
    decision = CreditDecision.objects.get()
    client.force_login(applicant())
    assert client.get(reverse("decision", args=[decision.pk])).status_code == 404
    assert client.post(reverse("decision_accept", args=[decision.pk])).status_code == 404
    assert client.get(reverse("decision", args=[decision.pk + 1000])).status_code == 404
    assert not CreditLine.objects.exists()


def test_the_decision_page_accepts_only_get_and_accept_only_post(client, model, product):
    apply_as(client, applicant(), product)
    decision = CreditDecision.objects.get()
    assert client.post(reverse("decision", args=[decision.pk])).status_code == 405
    assert client.get(reverse("decision_accept", args=[decision.pk])).status_code == 405


def test_the_dashboard_links_to_apply_only_without_a_line(client, model, product):
    customer = applicant()
    client.force_login(customer)
    assert "Apply for credit</a>" in client.get(reverse("dashboard")).content.decode()
    apply_as(client, customer, product)
    client.post(reverse("decision_accept", args=[CreditDecision.objects.get().pk]))
    assert "Apply for credit</a>" not in client.get(reverse("dashboard")).content.decode()


# Refusals and what a customer may read -----------------------------------------------------------

def test_applying_again_during_a_cooling_off_is_a_message_on_the_apply_page(client, model,
                                                                            product):
    customer = applicant()
    apply_as(client, customer, product)
    decision = CreditDecision.objects.get()
    response = apply_as(client, customer, product)
    assert response.status_code == 200
    page = response.content.decode()
    assert (f"You were approved for Cash loan on 2026-03-10 (decision #{decision.pk}); your "
            f"offer is on its page. You may apply again from 2026-03-17.") in page
    assert CreditDecision.objects.count() == 1


def test_a_declined_customer_applying_again_reads_when_they_may(client, model, product):
    customer = applicant(**RISKY)
    apply_as(client, customer, product)
    set_business_date(TODAY + timedelta(days=29))
    page = apply_as(client, customer, product).content.decode()
    assert ("Your last application for Cash loan was declined on 2026-03-10. You may apply "
            "again from 2026-04-09.") in page
    assert CreditDecision.objects.count() == 1


def test_a_blocked_customer_reads_only_that_we_cannot_offer_credit(client, model, product):
    from risk.services.block_list import block_list_entry_add

    customer = applicant(full_name="Wang Fang")
    block_list_entry_add(customer=customer, reason="Fraud ring, case 2026-114")
    response = apply_as(client, customer, product)
    page = client.get(response.url).content.decode()
    assert "We cannot offer credit at the moment." in page
    for hidden in ("Fraud ring", "Block-list entry", "block", customer.profile.id_number,
                   "You may apply again", "update your"):
        assert hidden not in page


def test_a_closed_offer_says_so_and_cannot_be_accepted(client, model, product):
    customer = applicant()
    apply_as(client, customer, product)
    first = CreditDecision.objects.get()
    set_business_date(TODAY + timedelta(days=7))
    apply_as(client, customer, product)
    second = CreditDecision.objects.latest("pk")
    client.post(reverse("decision_accept", args=[second.pk]))
    page = client.get(reverse("decision", args=[first.pk])).content.decode()
    assert 'data-testid="offer-closed"' in page
    assert f"This offer closed when you accepted <a href=\"/decisions/{second.pk}/\">" in page
    assert "Accept this offer" not in page
    response = client.post(reverse("decision_accept", args=[first.pk]), follow=True)
    assert response.status_code == 200
    assert (f"This offer was closed when you accepted offer #{second.pk}; apply again for a "
            f"new decision.") in response.content.decode()
    assert CreditLine.objects.get().credit_limit == second.credit_limit


def test_the_decision_page_says_when_a_lower_income_was_used(client, model, product):
    customer = applicant(monthly_income=Decimal("8000.00"))
    apply_as(client, customer, product)
    applicant(user=customer, monthly_income=Decimal("200000.00"))
    set_business_date(TODAY + timedelta(days=7))
    response = apply_as(client, customer, product)
    page = client.get(response.url).content.decode()
    assert ('We used a monthly income of 8,000.00 CNY, not the 200,000.00 CNY on your '
            'profile') in page
    first = CreditDecision.objects.earliest("pk")
    assert 'data-testid="income-used"' not in client.get(
        reverse("decision", args=[first.pk])).content.decode()
