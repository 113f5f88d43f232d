"""A hardship request end to end in a real browser: the customer asks on a phone, an officer
approves it in the admin through the preview, and the customer sees the answer and the new
schedule on the loan page.

The loan and the figures of tests/debt_collection/test_hardship.py: 1,200.00 over 3 months,
equal principal, 0.05 % a day from 2026-01-31; on 2026-02-10 the officer adds 3 months at
0.04 % a day, so 6 instalments of 200.00, the first due 2026-02-28 with 1,200.00 x 0.0004 x 28
= 13.44 of interest, the last due 2026-07-31 with 200.00 x 0.0004 x 31 = 2.48."""

from datetime import date

import pytest
from playwright.sync_api import expect

from debt_collection.models import HardshipRequest, HardshipStatus
from lending.services import loan_originate
from tests.factories import CreditLineFactory, UserFactory, partner_bank, set_business_date

pytestmark = [pytest.mark.browser]

PASSWORD = "correct-horse-battery"


def log_in(page, url, username):
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_hardship_request_asked_approved_and_seen(live_server, transactional_db, chromium,
                                                    phone_page):
    set_business_date(date(2026, 1, 31))
    partner_bank()
    line = CreditLineFactory(customer=UserFactory(username="mei"))
    loan = loan_originate(line_id=line.pk, principal="1200", term_months=3,
                          method="equal_principal", idempotency_key="loan", scope="test")
    set_business_date(date(2026, 2, 10))
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    customer = phone_page

    log_in(customer, f"{live_server.url}/loans/{loan.pk}/", "mei")
    customer.get_by_role("link", name="Having difficulty paying? Ask for more time").click()
    customer.get_by_label("A longer term, with smaller instalments").check()
    customer.get_by_label("For how many months").select_option("3")
    customer.get_by_label("I lost my job").check()
    customer.get_by_label("Your situation").fill("Laid off in January; a new job in April.")
    customer.get_by_role("button", name="Send my request").click()
    expect(customer.get_by_test_id("hardship-status")).to_have_text("Waiting for an answer")
    assert customer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    context = chromium.new_context()
    officer = context.new_page()
    officer.set_default_timeout(15_000)
    log_in(officer, f"{live_server.url}/admin/debt_collection/hardshiprequest/", "boss")
    request = HardshipRequest.objects.get()
    officer.get_by_role("link", name=str(request.pk), exact=True).click()
    expect(officer.get_by_text("Laid off in January; a new job in April.")).to_be_visible()
    officer.get_by_role("button", name="Approve…").click()
    expect(officer.get_by_label("Extra months")).to_have_value("3")
    officer.get_by_label("Lower daily rate").fill("0.0004")
    officer.get_by_label("Reason").fill("A new job starts in April.")
    officer.get_by_role("button", name="Preview the new schedule").click()
    new_rows = officer.get_by_test_id("new-schedule").locator("tbody tr")
    expect(new_rows).to_have_count(6)
    expect(new_rows.first).to_contain_text("13.44")
    expect(new_rows.last).to_contain_text("2026-07-31")
    request.refresh_from_db()
    assert request.status == HardshipStatus.SUBMITTED
    officer.get_by_role("button", name="Approve and book").click()
    expect(officer.get_by_text("is approved: loan")).to_be_visible()
    context.close()

    customer.goto(f"{live_server.url}/loans/{loan.pk}/")
    expect(customer.get_by_test_id("hardship-state")).to_contain_text("Approved")
    schedule = customer.get_by_test_id("loan-schedule")
    expect(schedule).to_contain_text("2026-07-31")
    expect(schedule).to_contain_text("13.44")
    expect(schedule).to_contain_text("2.48")
