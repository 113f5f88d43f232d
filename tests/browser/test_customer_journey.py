"""A customer in a real browser on a phone-sized screen: log in, borrow, see the schedule, pay."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from lending.models import Loan, Repayment
from tests.factories import (
    CreditLineFactory,
    ProfileFactory,
    UserFactory,
    partner_bank,
    set_business_date,
)

pytestmark = [pytest.mark.browser]


def page_is_not_wider_than_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_log_in_borrow_see_the_schedule_and_repay(live_server, transactional_db, phone_page):
    set_business_date(date(2026, 1, 31))
    partner_bank()
    customer = UserFactory(username="mei")
    ProfileFactory(user=customer)
    CreditLineFactory(customer=customer)
    page = phone_page

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Hello, mei")).to_be_visible()
    expect(page.get_by_test_id("business-date")).to_have_text("2026-01-31")
    expect(page.get_by_test_id("credit-line")).to_contain_text("50,000.00")
    assert page_is_not_wider_than_the_screen(page)

    page.get_by_role("link", name="Borrow cash").click()
    page.get_by_label("Amount").fill("10000.005")
    page.get_by_role("button", name="See my quote").click()
    expect(page.get_by_text("Use at most two decimals (cents).")).to_be_visible()
    page.get_by_label("Amount").fill("10000")
    page.get_by_label("12 months").check()
    page.get_by_label("Equal instalments").check()
    page.get_by_role("button", name="See my quote").click()

    expect(page.get_by_test_id("quote-apr")).to_have_text("18.12%")
    expect(page.get_by_test_id("quote-schedule").locator("tbody tr")).to_have_count(12)
    assert not Loan.objects.exists()
    page.get_by_role("button", name=re.compile(r"Confirm and borrow 10,000\.00 CNY")).click()

    expect(page).to_have_url(re.compile(r"/loans/\d+/$"))
    expect(page.get_by_text("Your loan of 10,000.00 CNY is on its way.")).to_be_visible()
    schedule = page.get_by_test_id("loan-schedule").locator("tbody tr")
    expect(schedule).to_have_count(12)
    expect(schedule.first).to_contain_text("2026-02-28")
    expect(schedule.first).to_contain_text("776.80")
    expect(schedule.first).to_contain_text("140.00")
    expect(page.get_by_test_id("loan-apr")).to_have_text("18.12%")
    expect(page.get_by_test_id("loan-payoff")).to_contain_text("10,000.00")
    assert page_is_not_wider_than_the_screen(page)

    page.get_by_label("Amount").fill("20000")
    page.get_by_role("button", name="Pay this amount").click()
    expect(page.get_by_text("more than the 10000.00 that settles this loan")).to_be_visible()
    assert not Repayment.objects.exists()

    page.get_by_label("Amount").fill("916.80")
    page.get_by_role("button", name="Pay this amount").click()
    expect(page.get_by_text("your payment of 916.80 CNY is booked")).to_be_visible()
    expect(page.get_by_test_id("repayments").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("loan-outstanding")).to_contain_text("9,083.20")

    loan = Loan.objects.get()
    assert loan.outstanding_principal == Decimal("9083.20")
    assert Repayment.objects.get().amount == Decimal("916.80")
