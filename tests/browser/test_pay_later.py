"""A pay-later (花呗) customer in a real browser, on a phone and on a desktop screen: sees the
statement, pays the minimum, converts a purchase into instalments. Screenshots of each step go
to the test's tmp directory (run with --basetemp to keep them in a known place)."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from lending.models import InstalmentPlan, PayLaterPayment
from lending.services import purchase_create, statements_cut
from tests.factories import (
    MerchantFactory,
    PayLaterLineFactory,
    ProfileFactory,
    UserFactory,
    set_business_date,
)

pytestmark = [pytest.mark.browser]

SCREENS = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


def page_is_not_wider_than_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def a_customer_with_a_statement():
    """Purchases of 600.00 (a sofa) and 200.00 on 15 January, billed on 1 February: 800.00 due
    on 10 February, minimum 80.00; the customer looks on 2 February."""
    set_business_date(date(2026, 1, 10))
    customer = UserFactory(username="lin")
    ProfileFactory(user=customer)
    line = PayLaterLineFactory(customer=customer, opened_on=date(2026, 1, 10))
    shop = MerchantFactory(name="Home & Garden")
    set_business_date(date(2026, 1, 15))
    purchase_create(
        line=line, merchant=shop, amount="600.00", order_reference="o-1", description="Sofa"
    )
    purchase_create(
        line=line, merchant=shop, amount="200.00", order_reference="o-2", description="Lamp"
    )
    set_business_date(date(2026, 2, 1))
    statements_cut(day=date(2026, 2, 1))
    set_business_date(date(2026, 2, 2))


@pytest.mark.parametrize("screen", list(SCREENS))
def test_pay_the_minimum_and_convert_a_purchase(
    live_server, transactional_db, chromium, tmp_path, screen
):
    a_customer_with_a_statement()
    context = chromium.new_context(**SCREENS[screen])
    page = context.new_page()
    page.set_default_timeout(15_000)

    def shot(name):
        assert page_is_not_wider_than_the_screen(page), name
        page.screenshot(path=tmp_path / f"{screen}-{name}.png", full_page=True)

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("lin")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("pay-later-link").click()

    expect(page.get_by_test_id("statement-balance")).to_contain_text("800.00")
    expect(page.get_by_test_id("statement-minimum")).to_contain_text("80.00")
    expect(page.get_by_test_id("statement-due")).to_have_text("10 Feb 2026")
    shot("1-home")

    page.get_by_role("link", name="Pay", exact=True).click()
    page.get_by_label("Another amount", exact=True).check()
    page.get_by_role("textbox", name="Amount").fill("900")
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("That is more than you owe")).to_be_visible()
    shot("2-pay-too-much")
    assert not PayLaterPayment.objects.exists()

    page.get_by_label(re.compile(r"The minimum payment: 80\.00")).check()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("your payment of 80.00 CNY is booked")).to_be_visible()
    expect(page.get_by_test_id("statement-balance")).to_contain_text("720.00")
    expect(page.get_by_test_id("statement-minimum")).to_have_text("Paid")
    shot("3-paid")
    assert PayLaterPayment.objects.get().amount == Decimal("80.00")

    page.get_by_role("link", name="Purchases").click()
    sofa = page.get_by_test_id("purchase").filter(has_text="Sofa")
    sofa.get_by_role("link", name="Convert into instalments").click()
    page.get_by_label("6 months (fee 4.5%)").check()
    shot("4-terms")
    page.get_by_role("button", name="See the parts").click()
    expect(page.get_by_test_id("plan-parts").locator("tbody tr")).to_have_count(6)
    expect(page.get_by_test_id("plan-apr")).to_have_text(re.compile(r"^\d+\.\d\d%$"))
    expect(page.get_by_test_id("plan-monthly")).to_contain_text("104.50")
    shot("5-preview")
    assert not InstalmentPlan.objects.exists()

    page.get_by_role("button", name="Confirm 6 monthly parts").click()
    expect(page).to_have_url(re.compile(r"/pay-later/plans/\d+/$"))
    expect(page.get_by_text("is now in 6 monthly parts")).to_be_visible()
    expect(page.get_by_test_id("plan-parts").locator("tbody tr")).to_have_count(6)
    shot("6-plan")
    plan = InstalmentPlan.objects.get()
    assert (plan.principal, plan.term_months) == (Decimal("600.00"), 6)

    page.get_by_role("link", name="Statements").click()
    page.get_by_test_id("statements").get_by_role("link").first.click()
    expect(page.get_by_test_id("statement-items")).to_contain_text("Converted into instalments")
    shot("7-statement")
    context.close()
