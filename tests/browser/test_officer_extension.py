"""An officer extends a loan's term in a real browser: the terms, the preview with the old and
the new schedule side by side, then the booking; the booked schedule is the one shown, cell
for cell."""

from datetime import date

import pytest
from django.test import Client
from playwright.sync_api import expect

from accounts.models import User
from lending.models import Instalment, LoanExtension
from lending.services import loan_originate
from tests.factories import CreditLineFactory, set_business_date

pytestmark = [pytest.mark.browser]


@pytest.fixture
def desk_page(chromium):
    """An officer's desktop-sized tab: the side-by-side schedules need the width."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_the_booked_schedule_is_the_one_previewed(live_server, transactional_db, desk_page):
    line = CreditLineFactory()
    set_business_date(date(2026, 1, 15))
    loan = loan_originate(line_id=line.pk, principal="1200", term_months=3,
                          method="equal_instalment", idempotency_key="loan", scope="test")
    set_business_date(date(2026, 2, 20))  # instalment 1 (Feb 15) unpaid, within grace
    officer = User.objects.create_superuser(username="officer", password="x")
    client = Client()
    client.force_login(officer)
    page = desk_page
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])

    page.goto(f"{live_server.url}/admin/lending/loan/")
    page.locator(f'input[name="_selected_action"][value="{loan.pk}"]').check()
    page.locator('select[name="action"]').select_option(label="Extend term…")
    page.locator('button[name="index"]').click()
    page.get_by_label("Extra months").fill("2")
    page.get_by_label("Reason").fill("Lost a job, new one starts in April")
    page.get_by_role("button", name="Preview the new schedule").click()
    expect(page.get_by_test_id("new-schedule")).to_be_visible()
    shown = [[cell.strip() for cell in row.locator("td").all_inner_texts()]
             for row in page.get_by_test_id("new-row").all()]
    page.get_by_role("button", name="Book this extension").click()
    expect(page.get_by_text(f"Loan {loan.pk} is extended by 2 months")).to_be_visible()

    extension = LoanExtension.objects.get(loan=loan)
    booked = Instalment.objects.filter(extension=extension).order_by("seq")
    assert [[
        "carried" if i.carried else str(n), i.due_date.isoformat(), str(i.principal_due),
        str(i.interest_due), str(i.penalty_due),
        str(i.principal_due + i.interest_due + i.penalty_due)]
        for n, i in enumerate(booked, start=0 if booked[0].carried else 1)] == shown
    # The carried row (Feb 15's interest) and 2 unpaid + 2 extra instalments.
    assert len(shown) == 5 and shown[0][0] == "carried"
