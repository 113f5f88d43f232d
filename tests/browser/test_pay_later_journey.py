"""The pay-later line end to end in Debian's Chromium, in English on a desktop screen and in
Chinese on a phone: a customer buys at the demo shop (the shop creates the checkout through the
merchant API over HTTP, the customer signs in and confirms on the platform's page, the shop
shows the payment and refunds one order), the nightly close cuts the statement, the customer
pays the minimum, then converts what is left into 3 monthly parts.

Figures: earbuds 399.00 and tea 168.00 kept, a bicycle 2,199.00 refunded before the cut; the
statement of 1 February bills 567.00, minimum 10 % = 56.70; after paying it, 510.30 is
converted into 3 parts at 2.5 %: fee 12.76 (510.30 x 0.025 = 12.7575), parts 170.10 + 4.25,
170.10 + 4.25, 170.10 + 4.26. Screenshots go to the test's tmp directory."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from lending.models import InstalmentPlan, PayLaterPayment, Purchase, Statement
from operations.demo_merchant import demo_merchant_seed
from operations.nightly_close import business_days_advance
from tests.factories import PayLaterLineFactory, ProfileFactory, UserFactory, set_business_date

pytestmark = [pytest.mark.browser]

SCREENS = {
    "en": ({"viewport": {"width": 1280, "height": 900}, "locale": "en-GB"},
           {"paid": "Paid", "minimum": "Minimum payment"}),
    "zh-hans": ({"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
                 "is_mobile": True, "has_touch": True, "locale": "zh-CN"},
                {"paid": "已还", "minimum": "最低还款额"}),
}


@pytest.mark.parametrize("language", list(SCREENS))
def test_shop_checkout_statement_minimum_conversion_and_refund(
        live_server, transactional_db, chromium, settings, tmp_path, language):
    screen, words = SCREENS[language]
    settings.DEMO_SHOP = True
    settings.DEMO_SHOP_ORIGINS = [live_server.url]
    set_business_date(date(2026, 1, 10))
    demo_merchant_seed()
    customer = UserFactory(username="mei", language=language)
    ProfileFactory(user=customer)
    line = PayLaterLineFactory(customer=customer, opened_on=date(2026, 1, 10))
    set_business_date(date(2026, 1, 15))

    context = chromium.new_context(**screen)
    page = context.new_page()
    page.set_default_timeout(20_000)

    def shot(name):
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        page.screenshot(path=tmp_path / f"{language}-{name}.png", full_page=True)

    def buy(sku, sign_in=False):
        page.goto(f"{live_server.url}/demo-shop/")
        page.get_by_test_id(f"pay-later-{sku}").click()
        if sign_in:
            page.locator("#id_username").fill("mei")
            page.locator("#id_password").fill("correct-horse-battery")
            page.locator("form [type=submit]").first.click()
        expect(page.get_by_test_id("checkout")).to_be_visible()
        shot(f"checkout-{sku}")
        page.get_by_test_id("checkout-confirm").click()
        expect(page.get_by_test_id("order")).to_have_attribute("data-status", "confirmed")

    buy("earbuds", sign_in=True)
    shot("1-returned-to-the-shop")
    buy("tea")
    buy("bike")
    page.get_by_test_id("order-refund").click()
    expect(page.get_by_test_id("order-refunded")).to_contain_text("2,199.00")
    shot("2-refunded")
    assert sorted(Purchase.objects.values_list("amount", "refunded")) == [
        (Decimal("168.00"), 0), (Decimal("399.00"), 0), (Decimal("2199.00"), Decimal("2199.00"))]

    # The nights up to the statement day: the close of 1 February cuts the statement.
    business_days_advance(days=(date(2026, 2, 1) - date(2026, 1, 15)).days + 1)
    statement = Statement.objects.get(line=line)
    assert (statement.new_purchases, statement.minimum_due) == (Decimal("567.00"),
                                                                Decimal("56.70"))

    page.goto(f"{live_server.url}/pay-later/")
    expect(page.get_by_test_id("statement-balance")).to_contain_text("567.00")
    expect(page.get_by_test_id("statement-minimum")).to_contain_text("56.70")
    expect(page.get_by_test_id("open-statement")).to_contain_text(words["minimum"])
    shot("3-statement")

    page.goto(f"{live_server.url}/pay-later/pay/")
    page.locator("input[name=choice][value=minimum]").check()
    page.get_by_test_id("pay-form").locator("[type=submit]").click()
    expect(page.get_by_test_id("statement-minimum")).to_have_text(words["paid"])
    expect(page.get_by_test_id("statement-balance")).to_contain_text("510.30")
    shot("4-minimum-paid")
    assert PayLaterPayment.objects.get().amount == Decimal("56.70")

    page.goto(f"{live_server.url}/pay-later/statements/{statement.pk}/convert/")
    page.locator("input[name=term_months][value='3']").check()
    page.get_by_test_id("convert-terms").locator("[type=submit]").click()
    expect(page.get_by_test_id("plan-parts").locator("tbody tr")).to_have_count(3)
    expect(page.get_by_test_id("plan-apr")).to_have_text(re.compile(r"^\d+\.\d\d%$"))
    expect(page.get_by_test_id("plan-monthly")).to_contain_text("174.35")
    shot("5-conversion-preview")
    page.get_by_test_id("convert-preview").locator("form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/pay-later/plans/\d+/$"))
    shot("6-plan")
    plan = InstalmentPlan.objects.get()
    assert (plan.principal, plan.fee_total) == (Decimal("510.30"), Decimal("12.76"))
    assert [(p.principal, p.fee) for p in plan.parts.order_by("seq")] == [
        (Decimal("170.10"), Decimal("4.25")), (Decimal("170.10"), Decimal("4.25")),
        (Decimal("170.10"), Decimal("4.26"))]
    context.close()
