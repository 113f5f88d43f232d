"""An officer opens a customer's file (operations/customer_file) on a phone and at a desk: the
page fits the phone's width, the schedule opens, and the audit chains verify."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from playwright.sync_api import expect

from lending.services import line_limit_lower, loan_originate
from tests.factories import (
    CreditLineFactory,
    ProfileFactory,
    UserFactory,
    partner_bank,
    set_business_date,
)

pytestmark = [pytest.mark.browser]

OFFICER = [("accounts", "view_customerprofile"), ("lending", "view_creditline"),
           ("lending", "view_limitchange"), ("lending", "view_loan"),
           ("lending", "view_instalment"), ("core", "view_auditevent")]


def signed_in(page, live_server, user):
    """The browser carries `user`'s session (the admin's login form has tests of its own)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def test_an_officer_reads_a_customer_file_on_a_phone_and_a_desk(live_server, transactional_db,
                                                               phone_page):
    set_business_date(date(2026, 1, 31))
    partner_bank()
    profile = ProfileFactory(full_name="Han Meimei", id_number="110101199003077777")
    line = CreditLineFactory(customer=profile.user)
    loan_originate(line_id=line.pk, principal="10000", term_months=12,
                   method="equal_instalment", idempotency_key="loan", scope="test")
    officer = UserFactory(username="officer-li", is_staff=True)
    officer.user_permissions.set([Permission.objects.get(content_type__app_label=app,
                                                         codename=codename)
                                  for app, codename in OFFICER])
    line_limit_lower(line_id=line.pk, new_limit="30000", reason="Second job ended",
                     officer=officer)
    page = phone_page
    signed_in(page, live_server, officer)

    page.goto(f"{live_server.url}/admin/customers/{profile.user.pk}/")
    expect(page.get_by_role("heading", name="Han Meimei")).to_be_visible()
    expect(page.get_by_test_id("id-number")).to_have_text("**************7777")
    schedule = page.get_by_text("Schedule (12 instalments)")
    schedule.click()
    expect(page.locator("details[open] tbody tr")).to_have_count(12)
    # Wide tables scroll inside their box; the page itself is no wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.set_viewport_size({"width": 1280, "height": 800})
    newest = page.get_by_test_id("timeline").locator("tbody tr").first
    expect(newest).to_contain_text("Limit lowered")
    expect(newest).to_contain_text("Second job ended")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("verify-result")).to_have_text(
        "Intact: 3 audit chains checked.")
